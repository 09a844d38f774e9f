"""Where the Whoosh index lives: opening it, creating it, and checking it is ours."""

from __future__ import annotations

import os
import re
from pathlib import Path

from whoosh import index as whoosh_index

from vnsearch.engines import IndexFormatError, IndexMissingError
from vnsearch.engines.whoosh.schema import build_schema

INDEX_NAME = "vnsearch"
RUN_LOCK_NAME = "vnsearch-indexer.lock"
WAITING_NAME = "vnsearch-indexer.waiting"  # locked (shared) by indexers waiting for the run lock
# A table of contents Whoosh was still writing when its process was killed: Whoosh writes
# it as _<name>_<generation>.toc.<random> and renames it when done.
TEMP_TOC_RE = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")


def open_index(index_dir: str | os.PathLike, create: bool = False, replace_other_schema: bool = False):
    """Open the index in ``index_dir``; with ``create``, make an empty one if there is none.

    An index whose fields differ from this version's schema raises
    :class:`IndexFormatError`, or with ``replace_other_schema`` is replaced by an empty one.
    """
    path = Path(index_dir)
    if whoosh_index.exists_in(path, indexname=INDEX_NAME):
        ix = whoosh_index.open_dir(path, indexname=INDEX_NAME)
        if set(ix.schema.names()) == set(build_schema().names()):
            return ix
        if not replace_other_schema:
            raise IndexFormatError(
                f"the index in {path} was built by another version of vnsearch; "
                f"rebuild it: vnsearch index FILES --rebuild --index-dir {path}")
        return whoosh_index.create_in(path, build_schema(), indexname=INDEX_NAME)
    if not create:
        raise IndexMissingError(f"no vnsearch index in {path}: run 'vnsearch index FILE --index-dir {path}' first")
    path.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(path, build_schema(), indexname=INDEX_NAME)


def remove_temp_tocs(index_dir: Path) -> None:
    """Delete tables of contents a killed commit left half-written (only under the run lock)."""
    for name in os.listdir(index_dir):
        if TEMP_TOC_RE.match(name):
            os.remove(index_dir / name)
