use memo_runtime::faas_cached;

#[faas_cached]
fn label(id: u32) -> impl std::fmt::Display {
    format!("#{id}")
}

fn main() {}
