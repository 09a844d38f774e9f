"""`vnsearch serve --workers 2`: two processes behind one port, each following publishes, none left behind."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
import threading
import time
from urllib.parse import quote

import pytest

from conftest import article
from robustness_support import free_port, run_cli, start_cli, stop, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn serves several processes on Linux"),
]


def _search(port: int, query: str) -> tuple[str, int]:
    """(the pid that answered, total) for /api/search on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/api/search?q={quote(query)}", headers={"Connection": "close"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body[:200]
        return response.getheader("X-Served-By"), json.loads(body)["total"]
    finally:
        conn.close()


def _answers_from_each(port: int, query: str, pids: set[str], seconds: float) -> dict[str, int]:
    """Query from 4 clients at once until every pid in ``pids`` has answered (or time is up)."""
    seen: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            pid, total = _search(port, query)
            with lock:
                seen[pid] = total
                if pids <= set(seen):
                    return

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def two_workers(sample_index, tmp_path):
    port = free_port()
    server = start_cli("serve", "--index-dir", sample_index, "--port", port, "--workers", 2,
                       log=tmp_path / "serve.log")
    try:
        wait_for(lambda: server.poll() is not None or _up(port), 60, "the site to start", interval=0.1)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        yield server, port, sample_index
    finally:
        stop(server)


def _up(port: int) -> bool:
    try:
        _search(port, "hà nội")
        return True
    except OSError:
        return False


def test_two_workers_answer_and_each_sees_a_publish(two_workers, write_jsonl):
    server, port, index_dir = two_workers
    first = _answers_from_each(port, "\"xe buýt điện\"", {"never"}, seconds=5)  # collect every pid that answers
    pids = set(first)
    assert len(pids) == 2 and str(server.pid) not in pids, first
    assert set(first.values()) == {0}

    published = write_jsonl([article("buyt-1", title="Hà Nội khai trương tuyến xe buýt điện đầu tiên",
                                     body="Tuyến xe buýt điện nối Cầu Giấy với Hồ Gươm chạy từ sáng nay.")])
    assert run_cli("index", published, "--index-dir", index_dir, "-q").returncode == 0
    after = _answers_from_each(port, "\"xe buýt điện\"", pids, seconds=10)
    assert set(after) == pids and set(after.values()) == {1}, after


def test_stopping_the_server_stops_its_workers(two_workers):
    server, port, _ = two_workers
    workers = {int(p) for p in _answers_from_each(port, "hà nội", {"never"}, seconds=3)}
    assert len(workers) == 2
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    wait_for(lambda: not any(_alive(p) for p in workers), 15, "the workers to exit", interval=0.1)


def test_workers_of_a_killed_server_exit_by_themselves(two_workers):
    server, port, _ = two_workers
    workers = {int(p) for p in _answers_from_each(port, "hà nội", {"never"}, seconds=3)}
    assert len(workers) == 2
    os.kill(server.pid, signal.SIGKILL)  # the master only: no chance to stop its workers
    server.wait(timeout=10)
    wait_for(lambda: not any(_alive(p) for p in workers), 15, "orphaned workers to exit", interval=0.1)
