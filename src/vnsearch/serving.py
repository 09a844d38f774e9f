"""Running the site: gunicorn with one process per core on Linux, waitress in one process otherwise.

Searching is Python and numpy under the GIL, so one process uses one core however many
threads it runs. ``vnsearch serve --workers N`` starts N gunicorn workers behind one port.
No index is opened before the fork: each worker builds its own app and
:class:`~vnsearch.search.SearchEngine` once forked, so each follows commits by itself,
and the index's file pages (read through the map, see :mod:`vnsearch.mapped`) are
shared by all of them through the kernel's page cache; each worker's private memory is
bounded by ``VNSEARCH_CACHE_MB``. Every response names its process in ``X-Served-By``.

A worker that dies is replaced by the gunicorn master; workers whose master dies exit
by themselves (gunicorn checks its parent), so nothing outlives the server.
"""

from __future__ import annotations

import gc
import os
import sys

SERVED_BY_HEADER = "X-Served-By"


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def uses_gunicorn(workers: int) -> bool:
    """gunicorn (several processes) on Linux for more than one worker; waitress otherwise."""
    return workers > 1 and sys.platform.startswith("linux")


def served_by(app):
    """WSGI middleware adding the serving process's id to every response."""
    pid = str(os.getpid())

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, (SERVED_BY_HEADER, pid)], exc_info)

        return app(environ, start)

    return wrapped


def create_app(index_dir: str, access_log: bool = True):
    """The site, warmed up, with what it loaded kept out of the garbage collector's way.

    A full collection walks every object the process holds: with Flask, numpy, Whoosh and
    the segmenter loaded that is 20 ms of CPU, and it struck at random requests. Objects
    that exist once the site is warm live as long as the process, so they are frozen
    (``gc.freeze``) and later collections only walk what requests allocate.
    """
    from vnsearch.search import SearchRequest
    from vnsearch.web import create_app as create_site

    site = create_site({"INDEX_DIR": index_dir, "ACCESS_LOG": access_log})
    # The segmenter, the code paths, and the vocabulary that spelling correction reads: a word
    # no archive holds ("Hà Nộii" was one until vietnews held "nộii"), so the correction runs
    # and reads the word list now rather than in a reader's request (1.4 s on 150,000 articles).
    site.extensions["vnsearch"].search(SearchRequest(query="Hà Nội qxzqvw"))
    gc.collect()
    gc.freeze()
    return served_by(site)


def serve(index_dir: str, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> None:
    """Serve until stopped (SIGTERM or SIGINT: requests in flight finish first)."""
    if not uses_gunicorn(workers):
        from waitress import serve as waitress_serve

        waitress_serve(create_app(index_dir, access_log), host=host, port=port, threads=threads, ident="vnsearch")
        return
    _run_gunicorn(index_dir, access_log, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,  # each worker opens the index itself, after the fork
        "proc_name": "vnsearch",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 10,
    })


def _run_gunicorn(index_dir: str, access_log: bool, options: dict) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        """gunicorn configured in code: no config file, no command line of its own."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):  # in each worker, after the fork
            return create_app(index_dir, access_log)

    Server().run()
