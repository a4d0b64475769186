use memo_runtime::faas_cached;

#[derive(Hash, PartialEq, Eq)]
struct Point {
    x: i32,
}

#[faas_cached]
fn norm(point: Option<&Point>) -> u64 {
    point.map_or(0, |p| p.x.unsigned_abs() as u64)
}

fn main() {}
