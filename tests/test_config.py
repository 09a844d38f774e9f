"""Where the index lives by default: never relative to the working directory; run.sh says how to reach it."""

from __future__ import annotations

import doctest
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vnsearch.config
from vnsearch.config import Settings, default_index_dir

ROOT = Path(__file__).resolve().parent.parent
VNSEARCH = Path(sys.executable).with_name("vnsearch")


def test_the_docstring_examples_hold():
    failures, tried = doctest.testmod(vnsearch.config)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("environ,expected", [
    ({"VNSEARCH_INDEX_DIR": "/srv/vnsearch", "XDG_DATA_HOME": "/data", "HOME": "/home/bt"}, "/srv/vnsearch"),
    ({"XDG_DATA_HOME": "/data", "HOME": "/home/bt"}, "/data/vnsearch/index"),
    ({"VNSEARCH_INDEX_DIR": "", "HOME": "/home/bt"}, "/home/bt/.local/share/vnsearch/index"),
    ({"XDG_DATA_HOME": "data", "HOME": "/home/bt"}, "/home/bt/.local/share/vnsearch/index"),  # relative: ignored
])
def test_default_index_dir_reads_the_environment(environ, expected):
    assert default_index_dir(environ) == expected
    assert Settings.from_env(environ).index_dir == expected


def test_the_default_is_never_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("VNSEARCH_INDEX_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert default_index_dir() == str(tmp_path / "data" / "vnsearch" / "index")
    assert os.path.isabs(Settings().index_dir)


def cli(*args, cwd, env):
    return subprocess.run([str(VNSEARCH), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_commands_find_the_same_index_from_any_folder(tmp_path, samples_file):
    """The README's commands without --index-dir: index in one folder, search and stats in another."""
    env = {k: v for k, v in os.environ.items() if k != "VNSEARCH_INDEX_DIR"}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), VNSEARCH_WORKERS="1")
    newsroom, home = tmp_path / "newsroom", tmp_path / "home"
    newsroom.mkdir(), home.mkdir()
    assert cli("index", samples_file, "-q", cwd=newsroom, env=env).returncode == 0
    assert (tmp_path / "data" / "vnsearch" / "index").is_dir()
    found = cli("search", "cong thuong hoa binh", "--json", cwd=home, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"][0]["id"] == "mau-001"
    assert json.loads(cli("stats", "--json", cwd=home, env=env).stdout)["articles"] == 13
    assert "vnsearch/index" in cli("index", "--help", cwd=home, env=env).stdout


def test_the_site_reads_the_same_default(tmp_path, monkeypatch, _sample_index_template):
    from vnsearch.web import create_app

    data = tmp_path / "data"
    shutil.copytree(_sample_index_template, data / "vnsearch" / "index")
    monkeypatch.delenv("VNSEARCH_INDEX_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.chdir(tmp_path)
    app = create_app()
    assert app.config["INDEX_DIR"] == str(data / "vnsearch" / "index")
    assert app.test_client().get("/api/search?q=cong+thuong+hoa+binh").get_json()["hits"][0]["id"] == "mau-001"


# -- run.sh ----------------------------------------------------------------------

FAKE_PYTHON = """#!/usr/bin/env bash
# A stand-in for .venv/bin/python: pip does nothing; the sample path is printed.
if [ "$1" = "-c" ]; then echo "$FAKE_SAMPLES"; fi
exit 0
"""
FAKE_VNSEARCH = """#!/usr/bin/env bash
# A stand-in for .venv/bin/vnsearch: records its arguments, one per line, a blank line after each call.
printf '%s\\n' "$@" "" >> "$FAKE_CALLS"
"""


@pytest.fixture
def run_sh_copy(tmp_path) -> Path:
    """run.sh in a folder of its own, with a fake .venv (no install, no network, no server)."""
    repo = tmp_path / "repo with space"
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "run.sh", repo / "run.sh")
    for name, text in (("python", FAKE_PYTHON), ("vnsearch", FAKE_VNSEARCH)):
        path = repo / ".venv" / "bin" / name
        path.write_text(text)
        path.chmod(0o755)
    return repo


def run_run_sh(repo: Path, cwd: Path, **env):
    calls = cwd / "calls.txt"
    environ = {k: v for k, v in os.environ.items() if k != "VNSEARCH_INDEX_DIR"}
    environ.update(FAKE_CALLS=str(calls), FAKE_SAMPLES="/samples/articles.jsonl", PORT="8311", **env)
    result = subprocess.run(["bash", str(repo / "run.sh")], cwd=cwd, env=environ, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    commands = [call.split("\n") for call in calls.read_text().split("\n\n") if call]
    return result, {command[0]: command[1:] for command in commands}


def index_dir_of(arguments: list[str]) -> str:
    return arguments[arguments.index("--index-dir") + 1]


def test_run_sh_indexes_into_the_repos_index_by_absolute_path_and_says_how_to_reach_it(run_sh_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result, calls = run_run_sh(run_sh_copy, cwd=elsewhere)
    expected = str(run_sh_copy / "index")
    assert index_dir_of(calls["index"]) == index_dir_of(calls["serve"]) == expected
    assert f"{run_sh_copy}/.venv/bin/vnsearch" in result.stderr.replace("\\ ", " ")
    assert "source" in result.stderr and ".venv/bin/activate" in result.stderr
    assert f"export VNSEARCH_INDEX_DIR={expected}" in result.stderr.replace("\\ ", " ")


def test_run_sh_reads_a_relative_index_dir_from_where_it_was_started(run_sh_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result, calls = run_run_sh(run_sh_copy, cwd=elsewhere, VNSEARCH_INDEX_DIR="my-index")
    assert index_dir_of(calls["index"]) == index_dir_of(calls["serve"]) == str(elsewhere / "my-index")
