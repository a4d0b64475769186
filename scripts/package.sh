#!/usr/bin/env bash
# Packages the two published crates, memo-macros and memo-runtime, as `cargo publish` would,
# and builds each package from its own files (cargo's verification step), with every feature
# on: a file included from outside a crate, a missing dependency version or a manifest
# mistake fails here rather than at publishing. Run by .ci/run.
#
# memo-runtime depends on memo-macros, which is not on crates.io yet: packaging both in one
# command lets cargo resolve it from the package just built.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo package --allow-dirty -p memo-macros -p memo-runtime --all-features "$@"
