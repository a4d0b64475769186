use memo_runtime::faas_cached;

#[faas_cached(force_refresh = reload)]
fn config(name: &str, #[exclude] reload: u8) -> String {
    format!("{name}{reload}")
}

fn main() {}
