use std::sync::Arc;

use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct Client {
    base: String,
}

impl Client {
    #[faas_cached]
    fn fetch(self: Arc<Self>, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

fn main() {}
