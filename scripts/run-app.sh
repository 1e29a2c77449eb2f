#!/usr/bin/env bash
# Opens the built app. Without a display (a server, CI) it opens on a virtual one
# and saves a screenshot, so the command still shows what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
app=target/debug/doorstep-app

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" "$@"
fi

echo "No display found: opening Doorstep on a virtual display (Xvfb)."
mkdir -p target/screenshots
Xvfb :87 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
sleep 1
export DISPLAY=:87
# A session bus of its own with a keyring (kept under target/, not in your home)
# and a notification server, so sign-in and popups work as on a desktop.
mkdir -p target/run-keyring
dbus-run-session -- bash -c '
  XDG_DATA_HOME="$PWD/target/run-keyring" gnome-keyring-daemon --unlock --components=secrets <<<"doorstep" >/dev/null
  dunst >/dev/null 2>&1 &
  exec "$0" "$@"' "$app" "$@" &
app_pid=$!
sleep 5
import -window root target/screenshots/run.png 2>/dev/null &&
  echo "Screenshot of the window: target/screenshots/run.png (Ctrl-C to quit)."
wait $app_pid
