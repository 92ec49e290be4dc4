#!/usr/bin/env bash
# Runs one moodle-check verb (php/<verb>.php) against the site set up by setup.sh and turns its report into
# a verdict: exit 0 and "RESULT: OK" only when the verb got to its report ("== Errors: 0 ==": Moodle code
# that dies half-way exits 0 without one), Moodle reported no error and no warning, and PHP printed no
# notice, warning, deprecation or Moodle debugging message.
set -uo pipefail
BIN="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
. "$BIN/site.env"
verb="$1"; shift
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
MOODLE_CODE="$MOODLE_CODE" php -d max_input_vars=5000 -d display_errors=1 -d error_reporting=-1 "$BIN/php/${verb//-/_}.php" "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
notices="$(grep -cE '^(PHP )?(Notice|Warning|Deprecated|Fatal error|Parse error)|^\+\+ |Debug info:|Debugging:' "$out" || true)"
echo "== PHP notices: $notices =="
if [ "$status" -eq 0 ] && [ "$notices" -eq 0 ] && grep -qx "== Errors: 0 ==" "$out"; then echo "RESULT: OK"; exit 0; fi
echo "RESULT: FAILED"; exit 1
