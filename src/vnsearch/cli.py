"""The ``vnsearch`` command: index, delete, optimize, search, stats, serve. A thin layer over
the library.

Settings come one way (:class:`vnsearch.config.Settings`): defaults, then ``VNSEARCH_*``,
then these options. Every command goes through the storage boundary
(:func:`vnsearch.engines.open_engine`); engine errors become one line on stderr, exit
status 1, or 2 when the engine's store cannot be reached.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager

import click

from vnsearch.readers import read_paths
from vnsearch.config import Settings
from vnsearch.documents import segments
from vnsearch.engines import Engine, EngineError, EngineUnavailable, open_engine
from vnsearch.search import SORTS, SearchError, SearchRequest

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, try again later


class EngineUnreachable(click.ClickException):
    exit_code = 2


def index_dir_option(f):
    return click.option(
        "--index-dir", type=click.Path(file_okay=False), default=None,
        show_default="$VNSEARCH_INDEX_DIR, else ~/.local/share/vnsearch/index",
        help="Directory of the index (the embedded engine).",
    )(f)


def _settings(index_dir: str | None, **options) -> Settings:
    try:
        return Settings.from_env(index_dir=index_dir, **options)
    except ValueError as exc:  # a VNSEARCH_* variable that does not parse
        raise click.ClickException(str(exc)) from None


@contextmanager
def engine_errors(what: str = ""):
    """Engine errors as one line: exit 2 when the store is unreachable, else 1."""
    try:
        yield
    except EngineUnavailable as exc:
        raise EngineUnreachable(str(exc)) from None
    except EngineError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        if not what:
            raise
        raise click.ClickException(f"cannot write the index in {what}: {exc.strerror or exc}; "
                                   "the index is as it was at its last commit") from None


def _engine(index_dir: str | None) -> Engine:
    return open_engine(_settings(index_dir))


@click.group()
@click.version_option(package_name="vnsearch")
def main():
    """Full-text search for Vietnamese news."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--rebuild", is_flag=True, help="Start from an empty index (the old one stays until the first commit).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def index(paths, index_dir, rebuild, quiet):
    """Index articles from JSON Lines files, scraped pages or directories of them.

    Bad records are reported on stderr as FILE:LINE: reason and skipped; the exit
    status is 1 when any record was rejected, 0 otherwise.
    """
    from tqdm import tqdm

    bar = tqdm(desc="indexing", unit=" articles", disable=None if not quiet else True,
               file=sys.stderr, mininterval=0.5)

    def on_reject(rejection):
        bar.clear()
        click.echo(str(rejection), err=True)

    def on_progress(n):
        bar.update(n - bar.n)

    def on_warning(message):
        bar.clear()
        click.echo(message, err=True)

    engine = _engine(index_dir)
    try:
        with engine_errors(engine.settings.index_dir):
            report = engine.index(read_paths(paths), rebuild=rebuild, on_reject=on_reject,
                                  on_progress=on_progress, on_warning=on_warning)
    finally:
        bar.close()
    click.echo(report.summary())
    sys.exit(1 if report.rejected else 0)


@main.command()
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
def delete(ids, index_dir):
    """Withdraw articles by id.

    Each id not in the index is named on stderr (not in the index: ID) and the exit status
    is 1; the ids that were found are deleted all the same.
    """
    engine = _engine(index_dir)
    with engine_errors(engine.settings.index_dir):
        report = engine.delete(ids)
    for article_id in report.missing:
        click.echo(f"not in the index: {article_id}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.missing else 0)


@main.command()
@click.argument("query")
@index_dir_option
@click.option("--category", multiple=True, help="Only this category (section); repeat for any of several.")
@click.option("--author", help="Only this author.")
@click.option("--source", help="Only this source.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="From this day (Vietnam time).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Through this day (Vietnam time).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--per-page", "--limit", "per_page", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print exactly what the web API serves.")
def search(query, index_dir, category, author, source, date_from, date_to, sort, page, per_page, as_json):
    """Search the index. QUERY supports "phrases", -exclusions, OR, title:/author:/category: and wildcards."""
    request = SearchRequest(query=query, category=category or None, author=author, source=source,
                            date_from=date_from.date() if date_from else None,
                            date_to=date_to.date() if date_to else None,
                            sort=sort, page=page, per_page=per_page)
    try:
        with engine_errors():
            result = _engine(index_dir).search(request)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.total} articles")
    if result.corrected_from:
        click.echo(f"Không có kết quả cho “{result.corrected_from}”: đang hiện kết quả cho “{result.query}”.")
    elif result.suggestion:
        click.echo(f"Có phải bạn muốn tìm: {result.suggestion}?")
    if result.total and "accents" in result.relaxed:
        click.echo("Không bài nào khớp đúng dấu đã gõ: đây là các bài khớp khi bỏ qua dấu.")
    if result.total and "words" in result.relaxed:
        click.echo("Không bài nào chứa đủ các từ đã gõ: đây là các bài chứa một số từ.")
    if result.missing:
        click.echo("Không tìm thấy: " + ", ".join(result.missing))
    for n, hit in enumerate(result.hits, start=(page - 1) * per_page + 1):
        meta = " · ".join(x for x in (hit.date[:10] if hit.date else "", hit.category, hit.author) if x)
        click.echo(f"{n:>3}. {hit.title}  [{hit.id}]")
        if meta:
            click.echo(f"     {meta}")


@main.command()
@index_dir_option
def optimize(index_dir):
    """Merge the index into one segment (one per shard on OpenSearch): for a quiet hour.

    A publish merges only what its size warrants, so an archive grown by publishes keeps
    some large segments, and every search visits each. Publishing goes on meanwhile: on the
    embedded engine the merge stops for an indexer that waits, loses nothing, and the exit
    status is 75 (try again later).
    """
    engine = _engine(index_dir)
    started = time.monotonic()
    with engine_errors(engine.settings.index_dir):
        report = engine.optimize()
    click.echo(f"{report.summary()} in {time.monotonic() - started:.1f} s")
    sys.exit(EX_TEMPFAIL if report.gave_way else 0)


@main.command()
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
def stats(index_dir, as_json):
    """Article count, categories with counts and date range."""
    with engine_errors():
        info = _engine(index_dir).stats()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"{info['articles']} articles in {info['index_dir']} ({segments(info['segments'])})")
    click.echo(f"dates: {info['date_from'] or '-'} to {info['date_to'] or '-'} ({info['undated']} undated)")
    click.echo("categories:")
    for c in info["categories"]:
        click.echo(f"  {c['count']:>6}  {c['value']}")


@main.command()
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per server process.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              show_default="$VNSEARCH_SERVE_WORKERS, else one per core",
              help="Server processes. Above 1, gunicorn runs them on Linux; "
                   "1 (or another system) runs waitress in this process.")
@click.option("--no-access-log", is_flag=True, help="No line per request on stderr.")
def serve(index_dir, host, port, threads, workers, no_access_log):
    """Serve the search site with a production WSGI server (gunicorn or waitress)."""
    from vnsearch import serving

    settings = _settings(index_dir, serve_workers=workers)
    workers = settings.serve_workers or serving.default_workers()
    index_dir = settings.index_dir
    with engine_errors():
        open_engine(settings).check()  # fail here, clearly, rather than in every worker; opens no segment
    how = f"{workers} gunicorn workers" if serving.uses_gunicorn(workers) else "waitress, one process"
    where = (f"the index {settings.opensearch_index!r} of the OpenSearch cluster at {settings.opensearch_url}"
             if settings.backend == "opensearch" else os.path.abspath(index_dir))
    click.echo(f"vnsearch: serving {where} on http://{host}:{port}/ ({how})", err=True)
    serving.serve(index_dir, host, port, workers, threads, access_log=not no_access_log)


if __name__ == "__main__":
    main()
