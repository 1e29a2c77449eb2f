#!/usr/bin/env bash
# `make fuzz`: longer runs of what `make test` runs briefly.
# 1. every decoder fuzz target of doorstep-proto for FUZZ_SECONDS each (default 30), with cargo-fuzz;
# 2. the cloud's handler fuzzing (arbitrary bodies, queries, channel and video messages)
#    for FUZZ_ROUNDS requests per route (default 400) on SQLite and PostgreSQL;
# 3. schemathesis against a running cloud with SCHEMATHESIS_EXAMPLES per operation
#    (default 300) and a new seed each run (printed, to replay a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
seconds=${FUZZ_SECONDS:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
(
  cd crates/proto/fuzz
  # cargo-fuzz needs nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
  export RUSTC_BOOTSTRAP=1
  for target in $(cargo fuzz list); do
    echo "==> fuzzing $target for ${seconds}s"
    cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096
  done
)
echo "==> fuzzing the cloud's handlers, ${FUZZ_ROUNDS:-400} requests per route"
DOORSTEP_FUZZ_ROUNDS=${FUZZ_ROUNDS:-400} cargo nextest run --locked --profile fuzz -p doorstep-cloud -E 'test(arbitrary_bodies)'
seed=${SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "==> schemathesis, ${SCHEMATHESIS_EXAMPLES:-300} examples per operation, seed $seed (SCHEMATHESIS_SEED=$seed to repeat)"
# The same set as make test builds, so features unify alike and nothing is rebuilt twice.
cargo build --locked -p doorstep-app -p doorstep-app-e2e -p doorstep-cloud -p doorstep-lock -p doorstep-courier -p doorstep-cli -p doorstep-bench -p doorstep-empty-window --bins
DOORSTEP_SCHEMATHESIS_EXAMPLES=${SCHEMATHESIS_EXAMPLES:-300} DOORSTEP_SCHEMATHESIS_SEED=$seed \
  cargo nextest run --locked --profile fuzz -p doorstep-system-tests -E 'test(schemathesis_finds)'
