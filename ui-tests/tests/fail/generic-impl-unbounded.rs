use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct Wrapper<T>(T);

impl<T> Wrapper<T> {
    #[faas_cached]
    fn describe(&self) -> String {
        std::any::type_name::<T>().to_owned()
    }
}

fn main() {}
