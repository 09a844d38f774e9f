"""Error pages: a message the reader can act on, as HTML for pages and JSON for the API.

A bad parameter is the user's to fix (400, with the search form to fix it in); an HTTP
error gets its own short page; anything unexpected is logged with its traceback and
answered with a plain 500 page, never a debugger or a stack trace.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from vnsearch.engines import EngineError, EngineUnavailable
from vnsearch.web.params import ParamError

MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    404: "Không tìm thấy trang này.",
    405: "Trang này chỉ để đọc.",
    500: "Đã có lỗi xảy ra ở máy chủ. Vui lòng thử lại sau.",
    503: "Kho dữ liệu tìm kiếm tạm thời không truy cập được. Vui lòng thử lại sau ít phút.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    app.register_error_handler(ParamError, bad_parameter)
    app.register_error_handler(EngineError, engine_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def bad_parameter(exc: ParamError):
    if wants_json():
        return jsonify(error=str(exc)), 400
    # The form keeps what was typed but not the filters: a bad one would fail the next search too.
    form = {"q": request.args.get("q", "")}
    return render_template("search.html", error=str(exc), form=form), 400


def engine_error(exc: EngineError):
    """The store is down or missing (a cluster unreachable, an index not built yet): a 503 the
    reader can wait out, with the engine's reason in the log, never a traceback."""
    current_app.logger.error("search engine unavailable on %s: %s", request.full_path, exc)
    message = MESSAGES[503] if isinstance(exc, EngineUnavailable) else "Chưa có dữ liệu để tìm kiếm."
    if wants_json():
        return jsonify(error=message), 503
    return render_template("error.html", code=503, title="Tạm thời không tìm kiếm được", message=message), 503


def http_error(exc: HTTPException):
    code = exc.code or 500
    message = MESSAGES.get(code, exc.name)
    if wants_json():
        response = jsonify(error=message)
    else:
        response = current_app.make_response(
            render_template("error.html", code=code, title=exc.name, message=message))
    response.status_code = code
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def unexpected_error(exc: Exception):
    current_app.logger.exception("unexpected error on %s %s", request.method, request.full_path)
    if wants_json():
        return jsonify(error=MESSAGES[500]), 500
    return render_template("error.html", code=500, title="Lỗi máy chủ", message=MESSAGES[500]), 500
