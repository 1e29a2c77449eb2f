#!/usr/bin/env bash
# The whole-system tests with every process's clock (the test, the cloud, the lock,
# the courier, the desktop session) set by libfaketime to just before midnight in
# the households' zone (Europe/Berlin), so each test runs across it. Each test runs
# in its own process, as nextest runs them. Not part of `make test` (it takes a few
# minutes more); run it after changing anything that reads wall-clock hours.
#   scripts/around-midnight.sh ["2026-12-06 22:59:58 UTC"] [suite ...]
set -euo pipefail
cd "$(dirname "$0")/.."
when=${1:-"$(date -u +%F) 22:59:58 UTC"}
shift || true
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(delivery household demo cli)
preload=$(find /usr/lib -name libfaketimeMT.so.1 -print -quit)
[ -n "$preload" ] || { echo "libfaketime is missing: apt-get install faketime" >&2; exit 1; }

cargo build --workspace --bins --locked --quiet
list=$(cargo nextest list --workspace --locked --message-format json 2>/dev/null)
failed=0
for suite in "${suites[@]}"; do
  bin=$(SUITE="doorstep-system-tests::$suite" python3 -c '
import json, os, sys
print(json.load(sys.stdin)["rust-suites"][os.environ["SUITE"]]["binary-path"])' <<<"$list")
  for test in $("$bin" --list 2>/dev/null | sed -n 's/: test$//p'); do
    offset=$(( $(date -d "$when" +%s) - $(date +%s) ))
    [ "$offset" -ge 0 ] && offset="+$offset"
    if output=$(LD_PRELOAD=$preload FAKETIME="${offset}s" timeout 300 "$bin" --exact "$test" 2>&1) \
       && grep -q "test result: ok. 1 passed" <<<"$output"; then
      echo "ok    $suite::$test"
    else
      echo "FAIL  $suite::$test"; grep -A6 panicked <<<"$output" | head -8 || true
      failed=1
    fi
  done
done
exit $failed
