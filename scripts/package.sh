#!/usr/bin/env bash
# `cargo publish --dry-run` of the two published crates, memo-macros and memo-runtime: cargo
# packages each as it would upload it and builds it from the packaged files alone (the
# verification step), with every feature on, then stops before the upload. A file included
# from outside a crate, a dependency without a version or a manifest mistake fails here
# rather than at publishing. Run by .ci/run.
#
# memo-runtime depends on memo-macros, which is not on crates.io yet: naming both in one
# command lets cargo resolve it from the package just built. `--allow-dirty` so that it checks
# the working tree as it is (CI's tree is clean anyway).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo publish --dry-run --allow-dirty -p memo-macros -p memo-runtime --all-features "$@"
