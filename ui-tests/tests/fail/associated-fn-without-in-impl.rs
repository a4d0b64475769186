use memo_runtime::faas_cached;

struct Rates;

impl Rates {
    #[faas_cached]
    fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }
}

fn main() {}
