use memo_runtime::faas_cached;

#[faas_cached]
fn total(numbers: &[&u64]) -> u64 {
    numbers.iter().copied().sum()
}

fn main() {}
