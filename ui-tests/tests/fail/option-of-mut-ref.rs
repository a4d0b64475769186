use memo_runtime::faas_cached;

#[faas_cached]
fn fill(buffer: Option<&mut Vec<u8>>, items: &[&mut String]) -> usize {
    buffer.map_or(0, |b| b.len()) + items.len()
}

fn main() {}
