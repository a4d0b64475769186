use memo_runtime::faas_cached;

#[faas_cached]
fn greet(#[exclude = true] verbose: bool, name: &str) -> String {
    if verbose {
        format!("hello, {name}!")
    } else {
        format!("hi {name}")
    }
}

fn main() {}
