use memo_runtime::faas_cached;

#[derive(Clone, PartialEq, Eq)]
struct Region(String);

#[faas_cached]
async fn rank(region: &Region, id: u64) -> u64 {
    region.0.len() as u64 + id
}

fn main() {}
