//! Lifetime parameters and where clauses on a memoized function and its `invalidate` helper.

use memo_runtime::faas_cached;

#[faas_cached]
fn longest<'a, 'b>(a: &'a str, b: &'b str) -> usize
where
    'a: 'b,
{
    a.len().max(b.len())
}

#[faas_cached]
fn first_byte<'a>(bytes: &'a [u8]) -> Option<u8>
where
    u8: Copy,
{
    bytes.first().copied()
}

#[faas_cached]
fn static_text(text: &'static str) -> String {
    text.to_uppercase()
}

fn main() {
    let owned = String::from("abcd");
    assert_eq!(longest(&owned, "xy"), 4);
    assert!(longest_invalidate(&owned, "xy"));
    assert_eq!(first_byte(b"z"), Some(b'z'));
    assert!(first_byte_invalidate(b"z"));
    assert_eq!(static_text("a"), "A");
    assert!(static_text_invalidate("a"));
}
