use memo_runtime::faas_cached;

struct Rates;

#[faas_cached]
impl Rates {
    fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }
}

fn main() {}
