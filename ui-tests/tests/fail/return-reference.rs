use memo_runtime::faas_cached;

#[faas_cached]
fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

fn main() {}
