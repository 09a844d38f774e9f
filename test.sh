#!/usr/bin/env bash
# The test suite: install vnsearch with its test tools, Debian's chromium for the browser test, run pytest.
#   ./test.sh                 everything
#   ./test.sh -m "not slow"   the quick part
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# setuptools builds in ./build: one left by an older checkout would install modules since removed.
rm -rf build
.venv/bin/python -m pip install -q ".[test]"
# Tests import the installed package, not the source tree.
.venv/bin/python -m pip install -q --no-deps --force-reinstall . >/dev/null

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's chromium for the browser test" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test.sh: /usr/bin/chromium is missing and cannot be installed here; the browser test will be skipped" >&2
  fi
fi

exec .venv/bin/python -m pytest -q "$@"
