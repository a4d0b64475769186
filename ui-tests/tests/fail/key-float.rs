// A float in the key: floats are neither `Hash` nor `Eq`; the message says how to key one.
use memo_runtime::faas_cached;

#[faas_cached(max_items = 100)]
fn tax(price: f64, region: u32) -> f64 {
    price * f64::from(region) / 100.0
}

#[faas_cached]
fn weights(values: &[f32]) -> usize {
    values.len()
}

// A type of one's own that holds a float: left to the bounds, whose notes speak of floats.
#[derive(Clone, PartialEq)]
struct Celsius<T>(T);

#[faas_cached]
fn feels_like(temperature: Celsius<f64>) -> u8 {
    temperature.0 as u8
}

fn main() {}
