use memo_runtime::faas_cached;

#[faas_cached]
fn joined(words: &[&str]) -> String {
    words.join(" ")
}

fn main() {}
