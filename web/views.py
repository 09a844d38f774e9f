"""The routes: a few lines each; parsing lives in params, page building in results."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from vnsearch.query import MAX_QUERY_CHARS
from vnsearch.search import SearchEngine
from vnsearch.web import feed as rss
from vnsearch.web.params import ParamError, parse_search_args, request_args
from vnsearch.web.results import search_page

bp = Blueprint("search", __name__)

FEED_SIZE = 20
RELATED = 5
COMPLETIONS = 8
# engine.complete() restores the accents of every word before the last one, once per
# candidate, while holding the engine's lock: its cost grows with the text (on dantri, 0.1 s
# at 2,000 characters now, 10 s before the library cached doc frequencies). Completions
# help short queries; past this length the box gets none rather than delaying searches.
SUGGEST_MAX_CHARS = 50


def engine() -> SearchEngine:
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
    paragraphs = [line.strip() for line in stored.get("body", "").split("\n") if line.strip()]
    return render_template("article.html", article=stored, paragraphs=paragraphs,
                           related=engine().related(article_id, RELATED), form={})


@bp.get("/api/search")
def api_search():
    return jsonify(engine().search(parse_search_args(request.args)).to_dict())


@bp.get("/api/suggest")
def api_suggest():
    text = request.args.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ParamError(f"Câu tìm kiếm quá dài; tối đa {MAX_QUERY_CHARS:,} ký tự.")
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
