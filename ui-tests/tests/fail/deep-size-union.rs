use memo_runtime::DeepSize;

#[derive(DeepSize)]
union Bits {
    int: u64,
    float: f64,
}

fn main() {}
