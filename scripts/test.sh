#!/usr/bin/env bash
# The project's test command (README "The two commands", and .ci/run): every test of every
# crate with every cargo feature on (`disk`, `redis`, `serde`...), then the doc tests (README
# included). Anything the tests need beyond the Rust toolchain is installed or started here.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need from Debian: `redis-server` (the Redis tier's tests start their own
# servers on free loopback ports), `openssl` (their TLS certificates) and OpenSSL's headers
# with pkg-config (the `redis` feature's TLS links the system's OpenSSL). Installed only when
# missing, so this is a few `command -v` checks on a machine that has them.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]} (Debian packages) for the tests"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    # The package's own service (port 6379) is not used: the tests start their servers.
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo test --workspace --all-targets --all-features
cargo test --workspace --doc --all-features
