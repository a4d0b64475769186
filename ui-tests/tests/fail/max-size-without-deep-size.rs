use memo_runtime::faas_cached;

#[derive(Clone)]
struct Report {
    lines: Vec<String>,
}

#[faas_cached(max_size = "1M")]
fn report(id: u32) -> Report {
    Report {
        lines: vec![id.to_string()],
    }
}

fn main() {}
