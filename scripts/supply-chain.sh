#!/usr/bin/env bash
# The supply-chain gate: `cargo deny check` (advisories, licences, bans, sources,
# configured in deny.toml) and `npm audit --audit-level=high` for the UI's packages.
# Where the advisory databases cannot be reached (a machine that reaches only the
# package registries), it uses a copy from an earlier fetch, and otherwise says
# plainly which check did not run; it never passes a check it did not make.
set -euo pipefail
cd "$(dirname "$0")/.."

note() { printf '\033[33mnote:\033[0m %s\n' "$*"; }
cargo_home=${CARGO_HOME:-$HOME/.cargo}

# cargo deny reads the dependency graph offline: on a fresh machine the registry
# cache is empty until the crates are fetched.
cargo fetch --locked --quiet

if cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --offline --log-level error check
elif compgen -G "$cargo_home/advisory-dbs/advisory-db-*/.git" >/dev/null; then
  db_date=$(git -C "$(compgen -G "$cargo_home/advisory-dbs/advisory-db-*" | head -1)" log -1 --format=%cs 2>/dev/null || echo unknown)
  note "the RustSec advisory database cannot be fetched; checking against the copy from $db_date"
  cargo deny --offline --log-level error check
else
  note "advisories NOT checked: the RustSec advisory database cannot be fetched (github.com unreachable) and $cargo_home/advisory-dbs holds no copy; licences, bans and sources are checked"
  cargo deny --offline --log-level error check licenses bans sources
fi

# npm audit exits 1 both for findings and for an audit endpoint it cannot reach;
# its JSON tells the two apart.
audit=$(npm --prefix ui audit --audit-level=high --json 2>/dev/null || true)
AUDIT="$audit" node -e '
  let report;
  try { report = JSON.parse(process.env.AUDIT || "{}"); } catch { report = { error: { summary: "unreadable answer" } }; }
  if (report.error || report.statusCode) {
    const why = (report.error && (report.error.summary || report.error.code)) || report.message || report.statusCode;
    console.log(`\x1b[33mnote:\x1b[0m npm audit NOT run: the registry audit endpoint answered: ${why}`);
    process.exit(0);
  }
  const v = (report.metadata && report.metadata.vulnerabilities) || {};
  const serious = (v.high || 0) + (v.critical || 0);
  console.log(`npm audit: ${v.critical || 0} critical, ${v.high || 0} high, ${v.moderate || 0} moderate, ${v.low || 0} low`);
  if (serious > 0) {
    for (const [name, finding] of Object.entries(report.vulnerabilities || {}))
      if (finding.severity === "high" || finding.severity === "critical") console.log(`  ${finding.severity}: ${name} (${finding.range})`);
    process.exit(1);
  }
'
