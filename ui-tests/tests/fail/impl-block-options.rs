use memo_runtime::faas_cached;

struct Rates;

#[faas_cached(ttl = 60)]
impl Rates {
    #[faas_cached]
    fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }
}

fn main() {}
