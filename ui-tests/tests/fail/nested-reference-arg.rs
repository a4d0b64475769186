use std::collections::HashMap;

use memo_runtime::faas_cached;

// `&[&str]`, `Option<&str>` and `Cow<str>` are owned by the key; deeper borrows are not.
#[faas_cached]
fn joined(words: &[&[&str]]) -> String {
    words.iter().map(|w| w.join(" ")).collect()
}

#[faas_cached]
fn first(text: Option<&&str>, nested: Option<Option<&str>>) -> usize {
    text.map_or(0, |t| t.len()) + usize::from(nested.is_some())
}

#[faas_cached]
fn lookup(pair: (&str, u8), table: HashMap<&str, u32>) -> usize {
    pair.0.len() + table.len()
}

fn main() {}
