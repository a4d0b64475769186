//! `max_size` as a size string and as a number of bytes, with derived `DeepSize` values.

use memo_runtime::{faas_cached, DeepSize};

#[derive(Clone, DeepSize)]
struct Page {
    body: String,
    links: Vec<String>,
}

#[faas_cached(max_size = "64K")]
fn page(path: &str) -> Page {
    Page {
        body: format!("<h1>{path}</h1>"),
        links: vec![path.to_owned()],
    }
}

#[faas_cached(max_size = 65_536)]
fn bytes(len: usize) -> Vec<u8> {
    vec![0; len]
}

#[faas_cached(max_size = "1.5M")]
fn words(text: String) -> Vec<String> {
    text.split(' ').map(str::to_owned).collect()
}

fn main() {
    assert_eq!(page("/").links.len(), 1);
    assert_eq!(bytes(10).len(), 10);
    assert_eq!(words("a b".to_owned()).len(), 2);
    assert_eq!(page_cache_info().max_size_bytes, Some(64 * 1024));
    assert_eq!(bytes_cache_info().max_size_bytes, Some(65_536));
    assert_eq!(words_cache_info().max_size_bytes, Some(1_572_864));
    assert!(page_cache().byte_size() <= 64 * 1024);
}
