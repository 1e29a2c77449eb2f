#!/usr/bin/env bash
# Every check, in the order that fails fastest. `make test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$(date +%s)

scripts/bootstrap.sh test

step "Rust formatting (cargo fmt --check)"
cargo fmt --all --check

step "Supply chain (cargo deny check, npm audit)"
scripts/supply-chain.sh

step "UI typecheck, lint and unit tests"
npm --prefix ui run --silent check
npm --prefix ui run --silent lint
npm --prefix ui run --silent test

step "UI build (embedded by the app)"
npm --prefix ui run --silent build

step "Rust lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Boundaries: the app without its demo feature builds and links no cloud server"
cargo clippy -p doorstep-app --no-default-features --all-targets --locked -- -D warnings
if cargo tree -p doorstep-app --no-default-features --locked -e normal,build --prefix none | grep -q '^doorstep-cloud '; then
  echo "error: doorstep-app without the demo feature depends on doorstep-cloud" >&2
  exit 1
fi

step "Build the binaries the whole-system tests start (app with both identifiers, cloud, lock, courier, CLI, bench and its empty Tauri window)"
cargo build -p doorstep-app -p doorstep-app-e2e -p doorstep-cloud -p doorstep-lock -p doorstep-courier -p doorstep-cli -p doorstep-bench -p doorstep-empty-window --bins --locked

step "Packages (.deb, .rpm; the debug build the install test installs)"
scripts/package.sh --debug

# Tests must never write to the real user's folders. What a test that forgot its
# temporary folders would create: the test build's folders, the cloud's default data
# folder. (The real app's own folders are left alone: a person may be using it.)
real_dirs=("${XDG_DATA_HOME:-$HOME/.local/share}" "${XDG_CONFIG_HOME:-$HOME/.config}" "${XDG_CACHE_HOME:-$HOME/.cache}")
snapshot() {
  for d in "${real_dirs[@]}"; do
    ls -d "$d"/dev.doorstep.app.e2e "$d"/doorstep-cloud 2>/dev/null || true
  done
}
before=$(snapshot)

step "Rust tests: unit, integration, desktop services and the app window (cargo nextest)"
cargo nextest run --workspace --locked --no-tests=fail

after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "error: tests touched the real user's folders:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

step "All checks passed in $(( $(date +%s) - started )) s; screenshots in target/screenshots/"
