use memo_runtime::faas_cached;

#[faas_cached]
fn describe(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
