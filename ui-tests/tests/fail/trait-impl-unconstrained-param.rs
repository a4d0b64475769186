use memo_runtime::faas_cached;

trait Convert<T> {
    fn convert(&self, value: T) -> String;
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Converter;

#[faas_cached]
impl<T: ToString + Clone + std::hash::Hash + Eq + Send + Sync + 'static> Convert<T> for Converter {
    #[faas_cached]
    fn convert(&self, value: T) -> String {
        value.to_string()
    }
}

fn main() {}
