use memo_runtime::DeepSize;

#[derive(DeepSize)]
struct Entry {
    name: String,
    #[deep_size(ignore)]
    hits: u64,
}

fn main() {}
