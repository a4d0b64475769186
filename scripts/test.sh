#!/usr/bin/env bash
# The project's test command (README "The two commands", and .ci/run): every test of every
# crate with every cargo feature on (`disk`, `redis`, `serde`...), then the doc tests (README
# included). Anything the tests need beyond the Rust toolchain is installed or started here.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-targets --all-features
cargo test --workspace --doc --all-features
