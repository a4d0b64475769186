//! The size parsers exist twice, byte for byte: in `memo-runtime/src/size/` (what the runtime
//! runs: the builder, `ByteSize`'s `FromStr`, `change_byte_size`) and in
//! `memo-macros/src/size/` (what `#[faas_cached(max_size = ...)]` is checked with at compile
//! time). Two copies, so that each crate builds from its own published files; this test keeps
//! them one parser.
//!
//! It reads both crates' files, so it lives in this unpublished crate, not in either package.

const PAIRS: [(&str, &str, &str); 2] = [
    (
        "parse.rs",
        include_str!("../../memo-runtime/src/size/parse.rs"),
        include_str!("../../memo-macros/src/size/parse.rs"),
    ),
    (
        "percent.rs",
        include_str!("../../memo-runtime/src/size/percent.rs"),
        include_str!("../../memo-macros/src/size/percent.rs"),
    ),
];

#[test]
fn the_macro_and_the_runtime_parse_sizes_with_the_same_file() {
    for (name, runtime, macros) in PAIRS {
        assert!(runtime.len() > 1000, "{name}: suspiciously short");
        if runtime != macros {
            let line = runtime
                .lines()
                .zip(macros.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| "their ends".to_owned(), |i| format!("line {}", i + 1));
            panic!(
                "memo-runtime/src/size/{name} and memo-macros/src/size/{name} differ (first at \
                 {line}): the attribute and the runtime would accept different sizes; copy the \
                 edited one over the other"
            );
        }
    }
}
