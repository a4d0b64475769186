use memo_runtime::faas_cached;

#[derive(Clone, PartialEq, Eq)]
struct Point {
    x: i32,
}

#[faas_cached]
fn sum(points: &[&Point]) -> i64 {
    points.iter().map(|p| i64::from(p.x)).sum()
}

fn main() {}
