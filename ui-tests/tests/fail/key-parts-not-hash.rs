use memo_runtime::faas_cached;

#[derive(Clone, PartialEq, Eq)]
struct Region(String);

#[derive(Clone, Hash, PartialEq)]
struct Score(u64);

#[faas_cached]
fn rank(region: &Region, id: u64, score: Score) -> u64 {
    region.0.len() as u64 + id + score.0
}

fn main() {}
