"""Worker processes every engine's indexer starts: they never outlive it.

Shared by the engines (their indexers analyse articles with pyvi in worker processes); no
engine's storage is touched here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PARENT_POLL = 0.1  # seconds between checks of the parent, where the kernel cannot watch for us


def die_with_parent(parent: int) -> None:
    """End this process as soon as ``parent`` dies, however it dies.

    A worker whose indexer is gone can commit nothing, and it may be blocked for good: the
    indexer killed while its queue's feeder thread was writing a chunk of articles leaves half
    a message in the pipe, and the worker reading it waits for the rest forever (every worker
    holds the pipe's write end, so no end of file comes). So the kernel kills the worker
    (Linux's PR_SET_PDEATHSIG: it fires when the thread that forked us ends, and the indexer
    forks from the thread that runs the whole indexing), or, where that does not exist, a
    thread checks the parent ten times a second. The re-check covers a parent that died before
    the signal was asked for.
    """
    if not _ask_for_signal_on_parent_death(signal.SIGKILL):
        threading.Thread(target=_watch_parent, args=(parent,), name="vnsearch-parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _ask_for_signal_on_parent_death(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(pr_set_pdeathsig, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)
