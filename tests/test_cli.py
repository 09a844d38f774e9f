"""The vnsearch command: index, search, stats, delete, optimize; exit statuses and messages."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import article
from engine_support import cli_env, on_cluster
from vnsearch.cli import main

pytestmark = pytest.mark.usefixtures("backend")  # each command on both engines


@pytest.fixture
def run():
    def invoke(*args, env=None):
        return CliRunner().invoke(main, [str(a) for a in args], env=cli_env(args, env), catch_exceptions=False)

    return invoke


def test_index_prints_one_summary_line_and_exits_0(run, tmp_path, samples_file):
    result = run("index", samples_file, "--index-dir", tmp_path / "ix", "-q")
    assert result.exit_code == 0
    assert result.stdout.strip() == "13 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"


def test_index_reports_bad_records_on_stderr_and_exits_1(run, tmp_path, write_jsonl):
    path = write_jsonl([article("a"), "{oops", {"id": "b", "title": " ", "body": "Tin"}])
    result = run("index", path, "--index-dir", tmp_path / "ix", "-q")
    assert result.exit_code == 1
    assert f"{path}:2: malformed JSON" in result.stderr
    assert f"{path}:3: missing or empty 'title'" in result.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 deleted, 2 rejected" in result.stdout


def test_index_dir_comes_from_the_environment(run, tmp_path, samples_file):
    target = tmp_path / "from-env"
    assert run("index", samples_file, "-q", env={"VNSEARCH_INDEX_DIR": str(target)}).exit_code == 0
    result = run("stats", "--json", env={"VNSEARCH_INDEX_DIR": str(target)})
    assert json.loads(result.stdout)["articles"] == 13


def test_search_json_is_the_api_shape(run, sample_index):
    result = run("search", "cong thuong hoa binh", "--index-dir", sample_index, "--json")
    data = json.loads(result.stdout)
    assert data["hits"][0]["id"] == "mau-001"
    assert data["suggestion"] == "Công Thương Hoà Bình"  # as the titles write the names
    assert {"query", "total", "page", "per_page", "hits", "facets", "suggestion", "corrected_from", "relaxed", "missing"} == set(data)


def test_search_filters_and_sort(run, sample_index):
    result = run("search", "", "--index-dir", sample_index, "--json", "--category", "Sức khỏe",
                 "--from", "2021-04-01", "--to", "2021-05-31", "--sort", "oldest")
    assert [h["id"] for h in json.loads(result.stdout)["hits"]] == ["mau-009", "mau-006"]


def test_search_text_output_lists_titles(run, sample_index):
    result = run("search", "ma so thue", "--index-dir", sample_index, "--per-page", "1")
    assert "Mã số thuế của hộ kinh doanh" in result.stdout
    assert result.stdout.splitlines()[0] == "1 articles"


def test_search_on_a_missing_index_says_what_to_do(run, tmp_path):
    result = CliRunner().invoke(main, ["search", "x", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no vnsearch index" in result.output and "vnsearch index" in result.output


def test_stats_lists_categories_and_dates(run, sample_index):
    data = json.loads(run("stats", "--index-dir", sample_index, "--json").stdout)
    assert data["articles"] == 13
    assert {"value": "Kinh doanh", "count": 3} in data["categories"]
    assert data["date_from"].startswith("2019-08-15") and data["date_to"].startswith("2021-05-01")


def test_delete_then_search(run, sample_index):
    assert "1 deleted" in run("delete", "mau-001", "--index-dir", sample_index).stdout
    hits = json.loads(run("search", "cong thuong hoa binh", "--index-dir", sample_index, "--json").stdout)["hits"]
    assert "mau-001" not in [h["id"] for h in hits]


def test_delete_names_each_id_not_in_the_index_and_exits_1(run, sample_index):
    result = run("delete", "mau-001", "khong-co", "mau-0O2", "--index-dir", sample_index)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["not in the index: khong-co", "not in the index: mau-0O2"]
    assert result.stdout.strip() == "0 added, 0 updated, 0 unchanged, 1 deleted, 0 rejected, 2 not in the index"
    search = json.loads(run("search", "", "--index-dir", sample_index, "--json", "--per-page", "100").stdout)
    assert search["total"] == 12 and "mau-001" not in [h["id"] for h in search["hits"]]


def test_delete_of_only_unknown_ids_changes_nothing(run, sample_index):
    before = sorted(sample_index.glob("*.toc"))
    result = run("delete", "bai-da-go", "--index-dir", sample_index)
    assert result.exit_code == 1
    assert result.stderr.strip() == "not in the index: bai-da-go"
    assert sorted(sample_index.glob("*.toc")) == before  # no new commit
    assert json.loads(run("stats", "--index-dir", sample_index, "--json").stdout)["articles"] == 13


def test_optimize_merges_the_index_and_keeps_every_article(run, tmp_path, samples_file, write_jsonl):
    ix = tmp_path / "ix"
    assert run("index", samples_file, "--index-dir", ix, "-q").exit_code == 0
    for n in range(3):  # three publishes: segments of their own on the embedded engine
        assert run("index", write_jsonl([article(f"p{n}", title=f"Tin số {n}")], name=f"p{n}.jsonl"),
                   "--index-dir", ix, "-q").exit_code == 0
    assert run("delete", "mau-001", "--index-dir", ix).exit_code == 0
    before = json.loads(run("search", "", "--index-dir", ix, "--json", "--per-page", "100").stdout)
    result = run("optimize", "--index-dir", ix)
    assert result.exit_code == 0, result.output
    # one segment on the embedded engine, one per shard on OpenSearch
    assert re.fullmatch(r"\d+ segments? (merged into \d+|already: nothing to merge) in [\d.]+ s",
                        result.stdout.strip()), result.stdout
    stats = json.loads(run("stats", "--index-dir", ix, "--json").stdout)
    assert stats["articles"] == 15
    if not on_cluster():
        assert result.stdout.startswith("4 segments merged into 1 ") and stats["segments"] == 1
    after = json.loads(run("search", "", "--index-dir", ix, "--json", "--per-page", "100").stdout)
    assert [h["id"] for h in after["hits"]] == [h["id"] for h in before["hits"]] and after["total"] == 15


def test_optimize_without_an_index_says_so(run, tmp_path):
    result = run("optimize", "--index-dir", tmp_path / "nothing")
    assert result.exit_code != 0
    assert "vnsearch index" in result.output  # how to make one


def test_installed_console_script_runs():
    exe = shutil.which("vnsearch", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "the vnsearch console script is not installed beside this Python"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("index", "search", "stats", "delete", "optimize", "serve"):
        assert command in out


def test_search_says_how_the_query_was_relaxed(run, sample_index):
    out = run("search", "tiềm vắc xin", "--index-dir", sample_index).stdout
    assert "bỏ qua dấu" in out
    out = run("search", "hoà bình xyzqw abcde fghij", "--index-dir", sample_index).stdout
    assert "chứa một số từ" in out and "Không tìm thấy: xyzqw, abcde, fghij" in out
