use memo_runtime::faas_cached;

trait Shape {
    fn area(&self) -> f64;
}

#[faas_cached]
fn area(shape: Option<&dyn Shape>) -> u64 {
    shape.map_or(0, |s| s.area() as u64)
}

fn main() {}
