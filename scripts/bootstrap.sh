#!/usr/bin/env bash
# Installs what `make run` (bootstrap.sh run), `make test` (bootstrap.sh test) or
# `make bench` (bootstrap.sh bench) needs and is missing. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Debian/Ubuntu packages. Build + run the Tauri app:
run_packages=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libssl-dev libxdo-dev pkg-config build-essential file xvfb xauth x11-apps imagemagick
  dbus-x11 gnome-keyring dunst libnotify-bin)
# ... and the test harness: WebKitWebDriver, a private D-Bus session, Secret Service tools,
# and the brokers the bench's smoke run measures beside the cloud.
test_packages=(webkit2gtk-driver libsecret-tools nats-server mosquitto faketime python3-venv)
# ... and the bench's other reference: the same UI in Chromium's app mode.
bench_packages=(chromium)

packages=("${run_packages[@]}")
[ "$mode" = test ] || [ "$mode" = bench ] && packages+=("${test_packages[@]}")
[ "$mode" = bench ] && packages+=("${bench_packages[@]}")
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}); run as root or install sudo"
    sudo=(sudo)
  fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Rust comes from rustup, not from apt (Debian's is too old for Tauri 2).
command -v cargo >/dev/null 2>&1 ||
  die "Rust is not installed: install it with rustup (https://rustup.rs), then run this again"
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
[ "$rust_minor" -ge 90 ] || die "Rust 1.90 or newer is needed (found $(rustc --version)); run: rustup update stable"
node_major=$(node --version | sed -E 's/^v([0-9]+).*/\1/')
[ "$node_major" -ge 18 ] || die "Node.js 18 or newer is needed (found $(node --version))"

# Front-end packages, reinstalled only when the lock file changed.
stamp=ui/node_modules/.doorstep-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  say "installing front-end packages (npm ci)"
  # The audit runs in the test command (scripts/supply-chain.sh), where a finding fails it.
  npm --prefix ui ci --no-audit --no-fund
  cp ui/package-lock.json "$stamp"
fi

if [ "$mode" = test ] || [ "$mode" = bench ]; then
  cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$cargo_bin/tauri-driver" ]; then
    say "installing tauri-driver"
    cargo install tauri-driver --version 2.1.0 --locked
  fi
  # Schemathesis (the API contract test) in its own virtual environment,
  # reinstalled only when tests/schemathesis/requirements.txt changed.
  if [ "$mode" = test ]; then
    venv=${XDG_CACHE_HOME:-$HOME/.cache}/doorstep/schemathesis
    if [ ! -x "$venv/bin/st" ] || ! cmp -s tests/schemathesis/requirements.txt "$venv/requirements.txt"; then
      say "installing schemathesis (a minute, once)"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/schemathesis/requirements.txt
      cp tests/schemathesis/requirements.txt "$venv/requirements.txt"
    fi
  fi
  if [ "$mode" = test ] && ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0.20.2$'; then
    say "installing cargo-deny (a few minutes, once)"
    cargo install cargo-deny --version 0.20.2 --locked
  fi
  if [ "$mode" = test ] && ! cargo nextest --version >/dev/null 2>&1; then
    say "installing cargo-nextest (a few minutes, once)"
    cargo install cargo-nextest --locked
  fi
fi
