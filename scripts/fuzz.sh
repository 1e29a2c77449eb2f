#!/usr/bin/env bash
# Runs every decoder fuzz target of doorstep-proto for FUZZ_SECONDS each (default 30).
# Not part of `make test` (it needs cargo-fuzz and takes minutes): run `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/../crates/proto/fuzz"
seconds=${FUZZ_SECONDS:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# cargo-fuzz needs nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
  echo "==> fuzzing $target for ${seconds}s"
  cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096
done
