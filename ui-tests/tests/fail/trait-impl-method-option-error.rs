use memo_runtime::faas_cached;

trait Describe {
    fn describe(&self) -> String;
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Item(u32);

// A bad option on a method of a trait impl: that error alone; the method still works.
#[faas_cached]
impl Describe for Item {
    #[faas_cached(ttl = -1)]
    pub fn describe(&self) -> String {
        format!("item {}", self.0)
    }
}

fn main() {
    let _ = Item(1).describe();
    let _ = Item::describe_cache_info;
}
