use memo_runtime::faas_cached;

trait Describe {
    fn describe(&self) -> String;
}

#[faas_cached]
impl Describe for u64 {
    #[faas_cached]
    fn describe(&self) -> String {
        format!("number {self}")
    }
}

#[faas_cached]
impl<T: Clone + std::hash::Hash + Eq + Send + Sync + 'static> Describe for Vec<T> {
    #[faas_cached]
    fn describe(&self) -> String {
        format!("{} items", self.len())
    }
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Local;

#[faas_cached]
impl Describe for &'static Local {
    #[faas_cached]
    fn describe(&self) -> String {
        "local".to_owned()
    }
}

trait Label {
    fn label(&self) -> String;
}

#[faas_cached]
impl<T: std::fmt::Debug + Clone + std::hash::Hash + Eq + Send + Sync + 'static> Label for T {
    #[faas_cached]
    fn label(&self) -> String {
        format!("{self:?}")
    }
}

fn main() {}
