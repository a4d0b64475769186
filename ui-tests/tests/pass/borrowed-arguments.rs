//! Borrowed arguments: the key owns them (`String`, `Vec<u8>`, `T`, `PathBuf`), a hit looks them
//! up without cloning.

use std::path::{Path, PathBuf};

use memo_runtime::{faas_cached, FaasCacheDict};

#[derive(Clone, Hash, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
}

#[faas_cached]
fn describe(text: &str, bytes: &[u8], point: &Point, path: &Path) -> String {
    format!(
        "{text} {} {} {}",
        bytes.len(),
        point.x + point.y,
        path.display()
    )
}

/// A `&mut` argument cannot be part of the key (a hit would skip its changes), but an excluded
/// one, like a scratch buffer, is fine.
#[faas_cached]
fn checksum(#[exclude] scratch: &mut Vec<u8>, data: &[u8]) -> u32 {
    scratch.clear();
    scratch.extend_from_slice(data);
    scratch.iter().map(|&b| u32::from(b)).sum()
}

#[faas_cached]
fn slice_of_strings(items: &[String]) -> usize {
    items.len()
}

#[faas_cached]
fn boxed(text: Box<str>, shared: std::sync::Arc<str>) -> usize {
    text.len() + shared.len()
}

fn main() {
    let point = Point { x: 1, y: 2 };
    assert_eq!(
        describe("a", b"xy", &point, Path::new("/tmp")),
        "a 2 3 /tmp"
    );
    let store: &FaasCacheDict<(String, Vec<u8>, Point, PathBuf), String> = describe_cache();
    assert_eq!(store.len(), 1);
    assert!(describe_invalidate("a", b"xy", &point, Path::new("/tmp")));

    let mut scratch = Vec::new();
    assert_eq!(checksum(&mut scratch, &[1, 2]), 3);
    assert_eq!(checksum(&mut scratch, &[1, 2]), 3);
    let store: &FaasCacheDict<(Vec<u8>,), u32> = checksum_cache();
    assert_eq!(store.len(), 1);
    assert!(checksum_invalidate(&[1, 2]));

    assert_eq!(slice_of_strings(&["a".to_owned()]), 1);
    assert_eq!(boxed("ab".into(), "c".into()), 3);
}
