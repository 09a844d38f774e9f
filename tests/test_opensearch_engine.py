"""The OpenSearch engine's own guarantees: the same answers as the embedded engine, a cluster
that cannot be reached as one clear line (CLI exit 2, a Vietnamese 503 from the site), a
publish searchable when the command returns, reruns that never double an article."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest
from click.testing import CliRunner

from conftest import article
from engine_support import engine_at, index_paths
from vnsearch.cli import main
from vnsearch.config import Settings
from vnsearch.engines import EngineUnavailable, open_engine
from vnsearch.search import SearchRequest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nowhere(monkeypatch):
    """A cluster address where nothing listens."""
    url = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("VNSEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("VNSEARCH_OPENSEARCH_URL", url)
    return url


def test_unreachable_cluster_is_one_line_and_exit_2(nowhere, samples_file):
    for args in (["search", "giá vàng"], ["stats"], ["index", str(samples_file), "-q"], ["delete", "mau-001"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and nowhere in lines[0] and "cannot be reached" in lines[0], lines
        assert "Traceback" not in result.output


def test_unreachable_cluster_is_a_vietnamese_503_page(nowhere, tmp_path):
    from vnsearch.web import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path)}).test_client()
    page = client.get("/?q=gi%C3%A1+v%C3%A0ng")
    assert page.status_code == 503
    assert "Kho dữ liệu tìm kiếm tạm thời không truy cập được" in page.get_data(as_text=True)
    api = client.get("/api/search?q=lua")
    assert api.status_code == 503 and "tạm thời không truy cập được" in api.get_json()["error"]


def test_engine_raises_engine_unavailable(nowhere):
    engine = open_engine(Settings.from_env())
    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        engine.search(SearchRequest(query="lúa"))
    with pytest.raises(EngineUnavailable):
        engine.check()


DOCS = [
    article("lua", "Giá lúa tăng mạnh ở miền Tây", "Nông dân bán lúa được giá, thương lái thu mua lúa gạo.",
            date="2021-04-10T09:00:00+07:00", category="Kinh tế", author="Hoàng Nga", source="HBĐT"),
    article("lua2", "Lửa cháy rừng phòng hộ", "Lực lượng chữa cháy dập lửa suốt đêm ở Hòa Bình.",
            date="2021-04-12T09:00:00+07:00", category="Xã hội", author="Trần Minh", source="Dân Trí"),
    article("lua3", "Lụa Vạn Phúc vào mùa", "Làng lụa Hà Đông đón khách, giá lụa tơ tằm ổn định.",
            date="2020-12-01T09:00:00+07:00", category="Văn hóa", author="Lê Thu", source="Dân Trí"),
    article("ct", "Sở Công Thương tỉnh Hòa Bình họp báo", "Bí thư Tỉnh ủy dự buổi họp của ngành công thương.",
            date="2021-04-20T09:00:00+07:00", category="Kinh tế", author="Hoàng Nga", source="HBĐT"),
    article("bd", "Bóng đá Việt Nam chuẩn bị vòng loại", "Đội tuyển bóng đá tập trung tại Hà Nội, giá vé tăng.",
            date="2021-05-01T00:30:00+07:00", category="Thể thao", author="Ngô Quang", source="Dân Trí"),
    article("undated", "Tin không ghi ngày về giá lúa", "Bài này không có ngày, nói về lúa và lửa."),
]
QUERIES = ["lua", "lúa", "giá lúa", "gia lua", "cong thuong hoa binh", "\"bí thư\"", "lửa -rừng", "lua*",
           "author:\"Hoàng Nga\" lúa", "bóng đáa", "giá lúa tăng mạnh xyzqw", "tiềm lúa", "", "Hà noi"]


@pytest.mark.opensearch
def test_both_engines_give_the_same_results(tmp_path, write_jsonl, opensearch_url, monkeypatch):
    path = write_jsonl(DOCS)
    whoosh = replace(Settings.from_env(), backend="whoosh")
    cluster = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    index_paths(tmp_path / "w", [path], whoosh)
    index_paths(tmp_path / "o", [path], cluster)
    a, b = engine_at(tmp_path / "w", whoosh), engine_at(tmp_path / "o", cluster)
    for query in QUERIES:
        for sort in ("relevance", "newest", "oldest"):
            request = SearchRequest(query=query, sort=sort)
            assert a.search(request).to_dict() == b.search(request).to_dict(), (query, sort)
    assert a.search(SearchRequest(query="lua", category="Kinh tế", date_from=__import__("datetime").date(2021, 4, 11))
                    ).to_dict() == b.search(SearchRequest(query="lua", category="Kinh tế",
                                                          date_from=__import__("datetime").date(2021, 4, 11))).to_dict()
    assert a.related("lua") == b.related("lua")
    assert a.complete("gia l") == b.complete("gia l")
    assert a.article("ct") == {**b.article("ct"), "docnum": a.article("ct")["docnum"]}
    stats_a, stats_b = a.stats(), b.stats()
    for key in ("articles", "categories", "sources", "date_from", "date_to", "undated"):
        assert stats_a[key] == stats_b[key], key


@pytest.mark.opensearch
def test_publish_is_searchable_when_the_command_returns(tmp_path, write_jsonl, opensearch_url):
    settings = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    index_paths(tmp_path / "o", [write_jsonl(DOCS)], settings)
    engine = engine_at(tmp_path / "o", settings)
    report = index_paths(tmp_path / "o", [write_jsonl([article("moi", "Bão số 3 đổ bộ Quảng Ninh",
                                                                "Gió giật cấp 12 ở Quảng Ninh.")], name="new.jsonl")],
                         settings)
    assert report.summary() == "1 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    assert [h.id for h in engine.search(SearchRequest(query="bão quảng ninh")).hits] == ["moi"]


@pytest.mark.opensearch
def test_rerun_skips_unchanged_and_replaces_changed_never_doubling(tmp_path, write_jsonl, opensearch_url):
    settings = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    first = index_paths(tmp_path / "o", [write_jsonl(DOCS)], settings)
    assert first.summary() == "6 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    changed = [dict(d, title="Giá lúa giảm nhẹ ở miền Tây") if d["id"] == "lua" else d for d in DOCS]
    second = index_paths(tmp_path / "o", [write_jsonl(changed, name="b.jsonl")], settings)
    assert second.summary() == "0 added, 1 updated, 5 unchanged, 0 deleted, 0 rejected"
    engine = engine_at(tmp_path / "o", settings)
    assert engine.stats()["articles"] == 6
    assert [h.title for h in engine.search(SearchRequest(query="giá lúa giảm")).hits][0] == "Giá lúa giảm nhẹ ở miền Tây"


@pytest.mark.opensearch
def test_duplicate_ids_in_one_run_keep_the_newest_updated(tmp_path, write_jsonl, opensearch_url):
    settings = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    newer = article("x", "Bản đã sửa", "Nội dung đã sửa.", updated="2021-05-02T10:00:00+07:00")
    older = article("x", "Bản đầu", "Nội dung đầu.", updated="2021-05-01T10:00:00+07:00")
    a = write_jsonl([newer], name="a.jsonl")
    b = write_jsonl([older], name="b.jsonl")
    warnings = []
    engine = engine_at(tmp_path / "o", settings)
    from vnsearch.readers import read_paths

    report = engine.index(read_paths([a, b]), on_warning=warnings.append)
    assert report.duplicates == 1 and "wins (its 'updated' time is newer)" in warnings[0]
    assert engine.article("x")["title"] == "Bản đã sửa"
    assert engine.stats()["articles"] == 1


@pytest.mark.opensearch
def test_stats_through_the_cli_on_the_cluster(tmp_path, samples_file, opensearch_url):
    env = {"VNSEARCH_BACKEND": "opensearch", "VNSEARCH_OPENSEARCH_URL": opensearch_url,
           "VNSEARCH_OPENSEARCH_INDEX": f"vnsearch-test-cli-{tmp_path.name}".lower()}
    try:
        result = CliRunner().invoke(main, ["index", str(samples_file), "-q"], env=env)
        assert result.exit_code == 0 and result.stdout.startswith("13 added")
        data = json.loads(CliRunner().invoke(main, ["stats", "--json"], env=env).stdout)
        assert data["articles"] == 13 and opensearch_url.split(",")[0] in data["index_dir"]
    finally:
        from opensearch_cluster_support import node_urls, request

        request("DELETE", f"{node_urls(opensearch_url)[0]}/{env['VNSEARCH_OPENSEARCH_INDEX']}*")


@pytest.mark.opensearch
def test_pages_far_down_list_every_hit_once(tmp_path, write_jsonl, opensearch_url, monkeypatch):
    from vnsearch.engines.opensearch import search as cluster_search

    monkeypatch.setattr(cluster_search, "EXACT_DEPTH", 20)  # an export's pages beyond the ranked ones
    monkeypatch.setattr(cluster_search, "CANDIDATES", 20)
    docs = [article(f"m{i}", f"Tin mưa số {i}", "Trời mưa " * (1 + i % 5), date=f"2021-03-{1 + i % 28:02d}T{i % 24:02d}:00:00+07:00")
            for i in range(55)]
    settings = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    index_paths(tmp_path / "o", [write_jsonl(docs)], settings)
    engine = engine_at(tmp_path / "o", settings)
    for sort in ("newest", "relevance"):
        pages = [engine.search(SearchRequest(query="mưa", sort=sort, page=p, per_page=10)) for p in range(1, 7)]
        ids = [h.id for r in pages for h in r.hits]
        assert sorted(ids) == sorted(d["id"] for d in docs), sort
    newest = [h.date for p in range(1, 7) for h in engine.search(SearchRequest(query="mưa", sort="newest", page=p)).hits]
    assert newest == sorted(newest, reverse=True)


@pytest.mark.opensearch
def test_rebuild_moves_the_alias_and_leaves_no_index_behind(tmp_path, write_jsonl, opensearch_url):
    from engine_support import cluster_index_for
    from opensearch_cluster_support import node_urls, request

    settings = replace(Settings.from_env(), backend="opensearch", opensearch_url=opensearch_url)
    alias = cluster_index_for(tmp_path / "o")
    node = node_urls(opensearch_url)[0]
    index_paths(tmp_path / "o", [write_jsonl(DOCS)], settings)
    request("PUT", f"{node}/{alias}-20200101000000-1")  # what a rebuild killed midway leaves
    report = index_paths(tmp_path / "o", [write_jsonl(DOCS[:2], name="b.jsonl")], settings, rebuild=True)
    assert report.summary() == "2 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected"
    behind = request("GET", f"{node}/_alias/{alias}")
    assert len(behind) == 1
    assert set(request("GET", f"{node}/{alias}-*")) == set(behind)
    assert engine_at(tmp_path / "o", settings).stats()["articles"] == 2
