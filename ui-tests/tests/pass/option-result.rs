//! `result`: automatic for `Result` and `io::Result`, `true` for an alias of another name,
//! `false` to cache errors too.

use std::num::ParseIntError;

use memo_runtime::{faas_cached, FaasCacheDict};

type Outcome<T> = Result<T, String>;

#[faas_cached]
fn parse(text: &str) -> Result<u16, ParseIntError> {
    text.parse()
}

#[faas_cached]
fn file_len(name: &str) -> std::io::Result<u64> {
    if name.is_empty() {
        Err(std::io::Error::other("empty name"))
    } else {
        Ok(name.len() as u64)
    }
}

#[faas_cached(result = true)]
fn checked(n: u32) -> Outcome<u32> {
    if n == 0 {
        Err("zero".to_owned())
    } else {
        Ok(n)
    }
}

#[faas_cached(result = false)]
fn parse_all(text: &str) -> Result<u16, ParseIntError> {
    text.parse()
}

#[faas_cached]
fn format_twice(text: &str) -> std::fmt::Result {
    let _ = text;
    Ok(())
}

fn main() {
    assert_eq!(parse("80"), Ok(80));
    assert!(parse("x").is_err());
    let store: &FaasCacheDict<(String,), u16> = parse_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(file_len("abc").unwrap(), 3);
    assert!(file_len("").is_err());
    let store: &FaasCacheDict<(String,), u64> = file_len_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(checked(2), Ok(2));
    assert!(checked(0).is_err());
    let store: &FaasCacheDict<(u32,), u32> = checked_cache();
    assert_eq!(store.len(), 1);

    assert!(parse_all("x").is_err());
    let store: &FaasCacheDict<(String,), Result<u16, ParseIntError>> = parse_all_cache();
    assert_eq!(store.len(), 1);

    assert!(format_twice("a").is_ok());
    let store: &FaasCacheDict<(String,), std::fmt::Result> = format_twice_cache();
    assert_eq!(store.len(), 1);
}
