"""Helpers shared by the robustness tests: a synthetic corpus, CLI runs, index inspection.

The corpus is generated, not downloaded: short Vietnamese news items built from
templates, each with a unique id (``rb-0001``) and a unique made-up word
(:func:`unique_token`) so that a search for it must find exactly that article.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from whoosh import index as whoosh_index

from vnsearch.engines.whoosh.store import INDEX_NAME
from engine_support import engine_at
from vnsearch.search import SearchRequest

TESTS = Path(__file__).resolve().parent
KILLPOINTS = TESTS / "killpoints.py"
VNSEARCH = Path(sys.executable).with_name("vnsearch")
CORPUS_SIZE = 2000
# Every synthetic article's body holds this phrase: a query for it counts the articles.
EVERY_ARTICLE = "sự kiện"

PROVINCES = [
    "Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Hoà Bình", "Nghệ An", "Thanh Hoá",
    "Quảng Ninh", "Lào Cai", "Đắk Lắk", "Khánh Hoà", "Bình Định", "Sóc Trăng", "Cà Mau",
    "Thừa Thiên Huế", "Lâm Đồng", "Bắc Ninh", "Kiên Giang", "Quảng Nam", "Hà Giang",
]
CATEGORIES = ["Thời sự", "Kinh doanh", "Xã hội", "Giáo dục", "Sức khoẻ", "Thể thao", "Văn hoá", "Pháp luật"]
AUTHORS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng", "Phạm Minh Châu", "Võ Thu Hà", "Đặng Quốc Huy"]
SOURCES = ["Báo Hoà Bình", "Tin Nhanh", "Thông tấn xã", ""]
SUBJECTS = [
    "nông dân", "học sinh", "bệnh viện", "doanh nghiệp", "ngư dân", "giáo viên", "công nhân",
    "hợp tác xã", "đội tuyển bóng đá", "Sở Công Thương", "Uỷ ban nhân dân tỉnh", "Công an huyện",
]
ACTIONS = [
    "thu hoạch lúa sớm", "khánh thành cây cầu mới", "tổ chức lễ hội truyền thống",
    "triển khai tiêm chủng", "xuất khẩu thanh long", "khắc phục hậu quả mưa lũ",
    "nâng cấp đường giao thông", "ra mắt sản phẩm OCOP", "khai giảng năm học mới",
    "giành huy chương vàng", "phá chuyên án ma tuý", "trồng rừng phòng hộ",
]
DETAILS = [
    "Theo lãnh đạo địa phương, kết quả này vượt kế hoạch đề ra.",
    "Người dân phấn khởi vì thu nhập tăng rõ rệt so với năm ngoái.",
    "Cơ quan chức năng khuyến cáo bà con theo dõi thời tiết để chủ động phòng tránh.",
    "Dự án có tổng vốn đầu tư hàng trăm tỷ đồng, dự kiến hoàn thành trong năm nay.",
    "Nhiều gia đình đã đăng ký tham gia chương trình ngay trong tuần đầu.",
    "Ban tổ chức cho biết sẽ nhân rộng mô hình ra các xã lân cận.",
    "Các chuyên gia đánh giá đây là bước tiến quan trọng của ngành.",
    "Chính quyền xã đã hỗ trợ kinh phí và hướng dẫn kỹ thuật cho người dân.",
]
_VIETNAM = timezone(timedelta(hours=7))


def unique_token(n: int) -> str:
    """A made-up ASCII word that appears in article ``n`` only: "xqb" and ``n`` in base 26."""
    letters = ""
    for _ in range(4):
        n, r = divmod(n, 26)
        letters = chr(ord("a") + r) + letters
    return f"xqb{letters}"


def corpus_id(n: int) -> str:
    return f"rb-{n:04d}"


def synthetic_article(n: int) -> dict:
    """Article ``n`` of the synthetic corpus: deterministic, varied, searchable by its token."""
    rng = random.Random(n)
    province = rng.choice(PROVINCES)
    subject, action = rng.choice(SUBJECTS), rng.choice(ACTIONS)
    token = unique_token(n)
    when = datetime(2020, 1, 1, 6, 0, tzinfo=_VIETNAM) + timedelta(hours=7 * n + rng.randrange(5))
    details = rng.sample(DETAILS, 3)
    body = (
        f"Sáng {when.day}/{when.month}, {subject} tỉnh {province} {action}. "
        f"Mã hồ sơ của sự kiện là {token}. {details[0]}\n{details[1]} {details[2]}"
    )
    return {
        "id": corpus_id(n),
        "title": f"{province}: {subject} {action}",
        "body": body,
        "date": when.isoformat(),
        "category": rng.choice(CATEGORIES),
        "author": rng.choice(AUTHORS),
        "source": rng.choice(SOURCES),
    }


def shared_corpus(tmp_path_factory) -> Path:
    """The 2,000-article corpus, written once per test session."""
    path = tmp_path_factory.getbasetemp() / "robustness-corpus.jsonl"
    if not path.exists():
        write_corpus(path.with_suffix(".part"))
        path.with_suffix(".part").rename(path)
    return path


def write_corpus(path: Path, count: int = CORPUS_SIZE, start: int = 0) -> Path:
    """Write articles ``start`` .. ``start + count - 1`` as JSON Lines."""
    with path.open("w", encoding="utf-8") as f:
        for n in range(start, start + count):
            f.write(json.dumps(synthetic_article(n), ensure_ascii=False) + "\n")
    return path


# -- running the CLI -----------------------------------------------------------

def cli_env(**overrides) -> dict:
    """The environment for a ``vnsearch`` subprocess: a commit every 300 articles (none by the clock),
    two analysis workers, a 10 s lock timeout; ``overrides`` as ``VNSEARCH_NAME=value``."""
    env = dict(os.environ)
    env.update({"VNSEARCH_COMMIT_EVERY": "300", "VNSEARCH_COMMIT_SECONDS": "600",
                "VNSEARCH_WORKERS": "2", "VNSEARCH_LOCK_TIMEOUT": "10", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def run_cli(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([str(VNSEARCH), *map(str, args)], capture_output=True, text=True,
                          env=env or cli_env(), timeout=timeout)


def run_killpoint(point: str, n: int, *args, env=None, timeout=180) -> subprocess.CompletedProcess:
    """``vnsearch ARGS`` under tests/killpoints.py, killed (or paused) at ``point`` for the n-th time."""
    return subprocess.run([sys.executable, str(KILLPOINTS), point, str(n), "--", *map(str, args)],
                          capture_output=True, text=True, env=env or cli_env(), timeout=timeout)


def start_killpoint(point: str, n: int, *args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(KILLPOINTS), point, str(n), "--", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or cli_env())


def start_cli(*args, env=None, log: Path | None = None) -> subprocess.Popen:
    """A ``vnsearch`` subprocess in a session of its own, so that it can be killed with its workers.

    Its output goes to pipes (read them with ``communicate``), or to ``log`` for a long-lived server.
    """
    out = log.open("w") if log else subprocess.PIPE
    try:
        return subprocess.Popen([str(VNSEARCH), *map(str, args)], stdout=out, stderr=subprocess.STDOUT if log else out,
                                text=True, env=env or cli_env(), start_new_session=True)
    finally:
        if log:
            out.close()


def stop(process: subprocess.Popen) -> None:
    """SIGKILL a process started by :func:`start_cli` with its session, and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generation(index_dir: Path) -> int:
    """The newest committed generation (the number of the TOC file), -1 before the index exists."""
    gens = [int(p.name[len("_vnsearch_"):-len(".toc")]) for p in Path(index_dir).glob("_vnsearch_*.toc")]
    return max(gens, default=-1)


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def stats_count(index_dir: Path) -> int:
    """The article count that ``vnsearch stats --json`` reports."""
    result = run_cli("stats", "--json", "--index-dir", index_dir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["articles"]


# -- looking inside the index --------------------------------------------------

def stored_ids(index_dir: Path) -> list[str]:
    """The id of every live document, read straight from Whoosh (duplicates kept)."""
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    with ix.reader() as reader:
        return [fields["id"] for _, fields in reader.iter_docs()]


def hits_for(engine, query: str, per_page: int = 10) -> list[str]:
    return [h.id for h in engine.search(SearchRequest(query=query, per_page=per_page)).hits]


def search_total(index_dir: Path, query: str) -> int:
    """The total that ``vnsearch search QUERY --json`` reports."""
    result = run_cli("search", query, "--json", "--index-dir", index_dir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["total"]


def assert_each_once(index_dir: Path, numbers, sample: int = 40):
    """Every article ``n`` in ``numbers`` is stored exactly once, and a sample is found by its token."""
    ids = stored_ids(index_dir)
    duplicates = sorted(i for i, c in Counter(ids).items() if c > 1)
    assert not duplicates, f"ids stored twice: {duplicates[:10]}"
    expected = {corpus_id(n) for n in numbers}
    assert set(ids) == expected, (f"missing {sorted(expected - set(ids))[:10]}, "
                                  f"unexpected {sorted(set(ids) - expected)[:10]}")
    engine = engine_at(str(index_dir))
    try:
        numbers = sorted(numbers)
        for n in random.Random(len(numbers)).sample(numbers, min(sample, len(numbers))):
            assert hits_for(engine, unique_token(n)) == [corpus_id(n)], f"token of {corpus_id(n)}"
    finally:
        engine.close()
