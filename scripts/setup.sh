#!/usr/bin/env bash
# Installs everything course_builder needs on a fresh Debian machine, then builds the bundled course.
# Idempotent: a second run only checks. Needs root (or sudo) for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-debian-packages.sh chromium postgresql

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

if [ -f package-lock.json ]; then
  npm ci --silent --no-audit --no-fund
fi

.venv/bin/course build --out build
