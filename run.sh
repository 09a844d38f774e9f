#!/usr/bin/env bash
# The main job: install vnsearch, index real articles, serve the search site.
#   ./run.sh              -> http://127.0.0.1:8000/, the index in this folder's index/
#   HOST=0.0.0.0 PORT=8080 VNSEARCH_INDEX_DIR=/srv/vnsearch ./run.sh
set -euo pipefail
# A relative VNSEARCH_INDEX_DIR is relative to where run.sh was started: resolve it before the cd.
INDEX_DIR=${VNSEARCH_INDEX_DIR:-}
if [ -n "$INDEX_DIR" ] && [ "${INDEX_DIR#/}" = "$INDEX_DIR" ]; then
  INDEX_DIR="$PWD/$INDEX_DIR"
fi
cd "$(dirname "$0")"
REPO=$PWD
# The index goes where run.sh's own folder is, by absolute path: never the caller's working directory.
INDEX_DIR=${INDEX_DIR:-$REPO/index}
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# setuptools builds in ./build: one left by an older checkout would install modules since removed.
rm -rf build
# A regular (non-editable) install: the site runs from the installed package.
.venv/bin/python -m pip install -q .
.venv/bin/python -m pip install -q --no-deps --force-reinstall . >/dev/null

if [ -f ../shared/corpus/dantri.jsonl.gz ]; then
  sources=(../shared/corpus/dantri.jsonl.gz)
  [ -d ../shared/seed ] && sources+=(../shared/seed)
else
  echo "run.sh: ../shared/corpus is absent; indexing the sample articles that ship with vnsearch" >&2
  sources=("$(.venv/bin/python -c 'import vnsearch; print(vnsearch.sample_articles_path())')")
fi

status=0
.venv/bin/vnsearch index "${sources[@]}" --index-dir "$INDEX_DIR" || status=$?
if [ "$status" -gt 1 ]; then
  echo "run.sh: indexing failed (exit $status)" >&2
  exit "$status"
fi
[ "$status" -eq 1 ] && echo "run.sh: some records were rejected (see above); serving the rest" >&2

# The vnsearch command lives in .venv, not on PATH: say how to reach it, and this index, from any folder.
{
  printf 'run.sh: the index is %s. To use the vnsearch command from any folder:\n' "$INDEX_DIR"
  printf 'run.sh:   export VNSEARCH_INDEX_DIR=%q\n' "$INDEX_DIR"
  printf 'run.sh:   %q search "bóng đá"     (or: source %q, then vnsearch ...)\n' \
    "$REPO/.venv/bin/vnsearch" "$REPO/.venv/bin/activate"
} >&2
exec .venv/bin/vnsearch serve --index-dir "$INDEX_DIR" --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
