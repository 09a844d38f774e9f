"""Shared fixtures: sample articles written for the project, small indexes, the shared corpus."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vnsearch import sample_articles_path
from engine_support import index_paths

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VNSEARCH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"


@pytest.fixture(scope="session")
def samples_file() -> Path:
    return Path(str(sample_articles_path()))


@pytest.fixture(scope="session")
def sample_records(samples_file) -> list[dict]:
    return [json.loads(line) for line in samples_file.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def _sample_index_template(tmp_path_factory, samples_file) -> Path:
    path = tmp_path_factory.mktemp("sample-index")
    report = index_paths(path, [samples_file])
    assert report.rejected == 0
    return path


@pytest.fixture
def sample_index(_sample_index_template, tmp_path) -> Path:
    """A fresh copy of an index of the sample articles, safe to modify."""
    target = tmp_path / "index"
    shutil.copytree(_sample_index_template, target)
    return target


@pytest.fixture
def write_jsonl(tmp_path):
    """Write records (dicts or raw strings) to a .jsonl file and return its path."""

    def write(records, name="articles.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def article(id, title="Tin mới ở Hà Nội", body="Người dân Hà Nội đón tin vui.", **extra) -> dict:
    """A small valid article record for tests."""
    return {"id": id, "title": title, "body": body, **extra}


@pytest.fixture(scope="session")
def dantri() -> Path:
    path = CORPUS / "dantri.jsonl.gz"
    if not path.exists():
        pytest.skip(f"the shared corpus is absent: {path} (tests that need real articles are skipped)")
    return path


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    if not SEED.exists():
        pytest.skip(f"the shared seed page is absent: {SEED}")
    return SEED


@pytest.fixture(scope="session")
def dantri_index(tmp_path_factory, dantri, seed_dir) -> Path:
    """dantri, then the seed page, indexed once for the session (read-only use).

    The reports of both runs are kept in ``dantri_index.reports`` for the tests that check them.
    """
    path = tmp_path_factory.mktemp("dantri-index")
    reports = [index_paths(path, [dantri]), index_paths(path, [seed_dir])]
    _DANTRI_REPORTS[:] = reports
    return path


_DANTRI_REPORTS: list = []


@pytest.fixture(scope="session")
def dantri_reports(dantri_index):
    return list(_DANTRI_REPORTS)
