use std::rc::Rc;

use memo_runtime::faas_cached;

#[faas_cached]
fn shared(name: &str) -> Rc<String> {
    Rc::new(name.to_owned())
}

fn main() {}
