use memo_runtime::faas_cached;

#[derive(Clone, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
}

#[faas_cached]
fn distance(from: Point, to: u32) -> u64 {
    (from.x + from.y) as u64 + u64::from(to)
}

fn main() {}
