#!/usr/bin/env bash
# The main job: install vnsearch, index real articles, serve the search site.
#   ./run.sh              -> http://127.0.0.1:8000/
#   HOST=0.0.0.0 PORT=8080 VNSEARCH_INDEX_DIR=/srv/vnsearch ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
INDEX_DIR=${VNSEARCH_INDEX_DIR:-index}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
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
exec .venv/bin/vnsearch serve --index-dir "$INDEX_DIR" --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
