use memo_runtime::faas_cached;

trait Describe {
    fn describe(&self) -> String;
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Item(u32);

// Without `#[faas_cached]` on the block, the helpers land in the trait impl.
impl Describe for Item {
    #[faas_cached]
    fn describe(&self) -> String {
        format!("item {}", self.0)
    }
}

fn main() {}
