#!/usr/bin/env bash
# Builds the installable packages (.deb and .rpm, with a desktop entry, the icons and
# the doorstep:// link handler) through the Tauri CLI from npm (@tauri-apps/cli, a
# prebuilt binary). `make package` builds the release ones; `make test` builds the
# debug ones for the install test (same package, faster to build).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=()
bundle_dir=target/release/bundle
if [ "${1:-}" = "--debug" ]; then
  profile=(--debug)
  bundle_dir=target/debug/bundle
fi

# The packages are built from the app's own folder, so the CLI reads its config
# (and not the test build's, or the bench's empty window's).
(cd src-tauri && ../ui/node_modules/.bin/tauri build "${profile[@]}" --bundles deb,rpm --ci)

echo "packages:"
ls -1 "$bundle_dir"/deb/*.deb "$bundle_dir"/rpm/*.rpm
