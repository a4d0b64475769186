use memo_runtime::faas_cached;

#[faas_cached]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
