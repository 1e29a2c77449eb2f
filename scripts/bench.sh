#!/usr/bin/env bash
# `make bench`: installs the references (NATS, Mosquitto, Chromium) and the desktop
# session's parts, builds everything the bench starts in release, and runs it.
# Arguments go to doorstep-bench (see `doorstep-bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh bench
npm --prefix ui run --silent build
cargo build --release --locked --bins \
  -p doorstep-bench -p doorstep-cloud -p doorstep-lock -p doorstep-app -p doorstep-app-e2e -p doorstep-empty-window
exec target/release/doorstep-bench "$@"
