use memo_runtime::faas_cached;

#[faas_cached(result = false, option = true)]
fn find(text: &str) -> Result<Option<u64>, String> {
    Ok(text.parse().ok())
}

fn main() {}
