"""The vnsearch web site: search page, article pages, JSON API and RSS over one index.

Read-only (every route answers GET and HEAD only) and thin: the search library does
the analysis and the ranking; this package turns query strings into requests and
results into pages. One storage engine per app (:func:`vnsearch.engines.open_engine`),
which follows new index commits by itself.

May import: ``vnsearch.search`` (requests and results), ``vnsearch.engines`` (only to open
one and name its errors), ``vnsearch.config``, ``vnsearch.query``; never an engine's own
package, nor Whoosh.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Flask, request

from vnsearch.config import Settings
from vnsearch.engines import open_engine
from vnsearch.web.accesslog import AccessLog

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Searches live in URLs: send none of them to the news sites readers click through to.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then the environment (:class:`vnsearch.config.Settings`: ``VNSEARCH_*``), then ``test_config``.

    ``INDEX_DIR``: the index (``VNSEARCH_INDEX_DIR``).
    ``ACCESS_LOG``: a line per request on stderr (``vnsearch serve`` turns it on).
    ``CORS_ORIGINS``: the web origins whose pages may read ``/api/`` and ``/feed``
    (a comma-separated string or a list; ``*`` for any; none by default).
    """
    # The static route is added by hand below, once automatic OPTIONS is off.
    app = Flask(__name__, static_folder=None)
    settings = Settings.from_env()
    app.config.from_mapping(
        INDEX_DIR=settings.index_dir,
        PROVIDE_AUTOMATIC_OPTIONS=False,
        CORS_ORIGINS=settings.cors_origins,
        ACCESS_LOG=False,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Never the debugger, whatever FLASK_DEBUG says: it runs code from the browser.
    app.debug = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # keep SearchResult.to_dict()'s order

    app.static_folder = "static"
    app.add_url_rule(f"{app.static_url_path}/<path:filename>", endpoint="static",
                     view_func=app.send_static_file)

    app.extensions["vnsearch"] = open_engine(replace(settings, index_dir=app.config["INDEX_DIR"]))

    from vnsearch.web import errors, filters, views

    app.register_blueprint(views.bp)
    errors.register(app)
    filters.register(app)

    origins = cors_origins(app.config["CORS_ORIGINS"])

    @app.after_request
    def add_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if origins and (request.path.startswith("/api/") or request.path == "/feed"):
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            if "*" in origins:
                response.headers["Access-Control-Allow-Origin"] = "*"
            elif origin in origins:
                response.headers["Access-Control-Allow-Origin"] = origin
        return response

    if app.config["ACCESS_LOG"]:
        app.wsgi_app = AccessLog(app.wsgi_app)
    return app


def cors_origins(value) -> set[str]:
    """``"https://a.vn, https://b.vn/"`` -> ``{"https://a.vn", "https://b.vn"}``: origins as browsers send them.

    >>> sorted(cors_origins("https://toasoan.vn, https://m.toasoan.vn/")), cors_origins("")
    (['https://m.toasoan.vn', 'https://toasoan.vn'], set())
    """
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return {item.strip().rstrip("/") for item in items if item.strip()}
