use memo_runtime::faas_cached;

#[derive(Hash, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
}

#[faas_cached]
fn norm(point: &Point) -> u64 {
    point.x.unsigned_abs() as u64 + point.y.unsigned_abs() as u64
}

fn main() {}
