#!/usr/bin/env bash
# Runs memo-runtime's unsafe-heavy tests under Miri (nightly toolchain with the miri component):
# the slab's node addresses (`Slab::ptr`) and the shard's hash table of them, the
# `ReadMostly` reader-writer lock, the `TypeId` cast in `__private::ErasedStatic`, and the store
# built on them, single-threaded and under contention. Miri checks for undefined behaviour:
# Stacked Borrows violations (and, in a second pass, Tree Borrows), dangling or misaligned
# accesses, and data races with weak-memory emulation.
#
# Not part of .ci/run: Miri runs ~100x slower than native (about 10-12 minutes here), and
# needs nightly. Tests too heavy for Miri run scaled down (`cfg!(miri)`) or are ignored under it
# (`#[cfg_attr(miri, ignore = "reason")]`), each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "Miri is not installed for nightly: rustup component add miri rust-src --toolchain nightly" >&2
    exit 2
fi

# Its own target dir, so that it never disturbs a native build or benchmark.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/tmiri}"
# Isolation off: the tests read the clock and sleep. Permissive provenance: parking_lot turns
# integers into pointers (third-party, harmless). Ignore leaks: the system clock's ticker
# thread is detached on purpose and outlives the test harness.
base="-Zmiri-disable-isolation -Zmiri-permissive-provenance -Zmiri-ignore-leaks"
export PROPTEST_CASES=4

echo "== Stacked Borrows: unit tests"
MIRIFLAGS="$base" cargo +nightly miri test -p memo-runtime --lib
echo "== Stacked Borrows: store tests"
MIRIFLAGS="$base" cargo +nightly miri test -p memo-runtime \
    --test store_concurrency --test store_basics --test store_hooks --test thread_numbers
# Left out for time: store_model (passes, ~4.5 min), store_s3fifo (its scan tests take over
# 5 min each) and store_ttl; S3-FIFO's shared-lock path is covered by store_concurrency.

echo "== Tree Borrows: slab, shard, lock and cast"
MIRIFLAGS="$base -Zmiri-tree-borrows" cargo +nightly miri test -p memo-runtime --lib -- \
    slab:: shard:: read_mostly:: thread_id:: __private:: list::
