"""The routes: a few lines each; parsing lives in params, page building in results."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from markupsafe import Markup

from vnsearch.search import snippets
from vnsearch.query import MAX_QUERY_CHARS
from vnsearch.engines import Engine
from vnsearch.web import export
from vnsearch.web import feed as rss
from vnsearch.web.filters import number
from vnsearch.web.params import ParamError, parse_search_args, request_args
from vnsearch.web.results import EXPORT_LIMIT, search_page

bp = Blueprint("search", __name__)

FEED_SIZE = 20
RELATED = 5
COMPLETIONS = 8
# engine.complete() restores the accents of every word before the last one, once per
# candidate, while holding the engine's lock: its cost grows with the text (on dantri, 0.1 s
# at 2,000 characters now, 10 s before the library cached doc frequencies). Completions
# help short queries; past this length the box gets none rather than delaying searches.
SUGGEST_MAX_CHARS = 50


def engine() -> Engine:
    return current_app.extensions["vnsearch"]


@bp.get("/")
def index():
    req = parse_search_args(request.args)
    result = engine().search(req)
    return render_template("search.html", form=request.args, **search_page(engine(), req, result, url_for))


@bp.get("/article/<path:article_id>")
def article(article_id: str):
    stored = engine().article(article_id)
    if stored is None:
        abort(404)
    # The search the article was opened from rides in its link: the way back, and the words to mark.
    try:
        search = parse_search_args(request.args)
    except ParamError:
        search = None
    back = request_args(search) if search and search.query else {}
    terms = snippets.query_terms(search.query) if back else set()

    def marked(text: str) -> Markup:
        return Markup(snippets.highlight(text, terms))

    paragraphs = [marked(line.strip()) for line in stored.get("body", "").split("\n") if line.strip()]
    return render_template("article.html", article=stored, paragraphs=paragraphs, title=marked(stored.get("title", "")),
                           lead=marked(stored.get("summary", "")), back=back,
                           back_url=url_for("search.index", **back) if back else None,
                           related=engine().related(article_id, RELATED), form={"q": search.query if back else ""})


@bp.get("/api/search")
def api_search():
    return jsonify(engine().search(parse_search_args(request.args)).to_dict())


@bp.get("/api/search.csv")
def api_search_csv():
    """Every hit of a search, up to ``limit`` (at most EXPORT_LIMIT), as CSV."""
    req = parse_search_args(request.args, page=1)
    limit = _limit(request.args.get("limit"))
    return _csv(export.hits_csv(engine(), req, limit), "vnsearch-ket-qua.csv")


@bp.get("/api/months.csv")
def api_months_csv():
    """A search's article count for each month, as CSV."""
    req = parse_search_args(request.args, page=1, per_page=1, sort="newest")
    return _csv(export.months_csv(engine().search(req)), "vnsearch-theo-thang.csv")


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return EXPORT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:9]) <= EXPORT_LIMIT:
        raise ParamError(f"Giới hạn xuất phải là số nguyên từ 1 đến {number(EXPORT_LIMIT)}.")
    return int(raw)


def _csv(body, filename: str) -> Response:
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/api/suggest")
def api_suggest():
    text = request.args.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ParamError(f"Câu tìm kiếm quá dài; tối đa {number(MAX_QUERY_CHARS)} ký tự.")
    if len(text) > SUGGEST_MAX_CHARS:
        return jsonify([])
    return jsonify(engine().complete(text, COMPLETIONS))


@bp.get("/feed")
def feed():
    req = parse_search_args(request.args, sort="newest", page=1, per_page=FEED_SIZE)
    result = engine().search(req)
    page_args = request_args(req, sort="relevance", per_page=None)
    title = f"vnsearch: {req.query}" if req.query else "vnsearch: bài mới"
    body = rss.rss(
        result, title=title,
        site_url=url_for("search.index", _external=True, **page_args),
        self_url=url_for("search.feed", _external=True, **page_args),
        article_url=lambda hit: url_for("search.article", article_id=hit.id, _external=True),
    )
    return Response(body, mimetype="application/rss+xml")
