use memo_runtime::faas_cached;

#[faas_cached(option = true)]
fn parse(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

fn main() {}
