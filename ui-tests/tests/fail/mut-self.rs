use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct Counter(u64);

impl Counter {
    #[faas_cached]
    fn bump(&mut self, by: u64) -> u64 {
        self.0 += by;
        self.0
    }
}

fn main() {}
