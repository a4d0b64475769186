use memo_runtime::faas_cached;

#[derive(Clone)]
struct Client {
    base: String,
}

impl Client {
    #[faas_cached]
    fn fetch(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

fn main() {}
