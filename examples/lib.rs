//! Runnable examples of faas-memo live next to this file: see README.md.
//!
//! This crate also runs the workspace README's code blocks as doc tests: it depends on
//! `memo-runtime` with its features, serde and tokio, as a user's crate would, and is not
//! published, so the README can be included from outside its directory.

// The README's examples, compiled and run as doc tests (`cargo test -p memo-examples --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
