use memo_runtime::faas_cached;

#[derive(Clone, PartialEq)]
struct Coordinates {
    lat: f64,
    lon: f64,
}

#[faas_cached(key = Coordinates { lat, lon }, key_type = Coordinates)]
fn elevation(lat: f64, lon: f64) -> f64 {
    lat + lon
}

fn main() {}
