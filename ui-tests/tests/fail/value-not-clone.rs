use memo_runtime::faas_cached;

struct Report {
    lines: Vec<String>,
}

#[faas_cached]
fn report(id: u32) -> Report {
    Report {
        lines: vec![id.to_string()],
    }
}

fn main() {}
