"""Every /api/search answer for a fixed set of requests, one JSON line each: run it at two
commits and compare the files to show that a change left what users see as it was.

The requests: ``bench/web_load.py``'s varied mix (queries x sorts x pages 1-5, and
categories), ``bench/scale.py``'s 400 mixed queries (seed 11), and the second page of 200
of them; on the dantri index of ``bench/web_load.py``. ``took_ms`` is left out.

    python bench/api_snapshot.py /tmp/new.jsonl
    git worktree add --detach /tmp/old-tree OLD_COMMIT
    PYTHONPATH=/tmp/old-tree/src:/tmp/old-tree python bench/api_snapshot.py /tmp/old.jsonl
    cmp /tmp/old.jsonl /tmp/new.jsonl && echo identical
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse

import scale
import web_load


def requests() -> list[str]:
    paths = web_load.paths("varied")
    mixed = ["/api/search?" + urllib.parse.urlencode({"q": q}) for q in scale.mixed_queries(400, 11)]
    return paths + mixed + [p + "&page=2" for p in mixed[-200:]]


def answer(app, path: str) -> tuple[str, dict]:
    """The status and JSON of one GET, through the WSGI app (no server, no network)."""
    route, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": None,
               "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
               "wsgi.multiprocess": False, "wsgi.run_once": False}
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    data = json.loads(body)
    data.pop("took_ms", None)
    return status[0], data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the JSON Lines file to write")
    parser.add_argument("--index-dir", default=str(web_load.DEFAULT_INDEX))
    args = parser.parse_args()
    if not web_load.CORPUS.exists() and args.index_dir == str(web_load.DEFAULT_INDEX):
        print(f"skipped: the shared corpus is absent ({web_load.CORPUS})")
        return
    if args.index_dir == str(web_load.DEFAULT_INDEX):
        web_load.ensure_index(web_load.DEFAULT_INDEX)
    from vnsearch.serving import create_app

    app = create_app(args.index_dir, access_log=False)
    paths = requests()
    with open(args.out, "w", encoding="utf-8") as out:
        for path in paths:
            status, data = answer(app, path)
            out.write(json.dumps([path, status, data], ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(paths)} answers written to {args.out}")


if __name__ == "__main__":
    main()
