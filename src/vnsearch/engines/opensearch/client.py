"""The connection to the cluster, and its failures as one clear line."""

from __future__ import annotations

from contextlib import contextmanager

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors

from vnsearch.engines import EngineUnavailable

TIMEOUT_SECONDS = 30


def connect(url: str) -> OpenSearch:
    """A client over every node named in ``url`` (comma-separated); it retries another node
    when one stops answering, so a cluster that lost a node keeps serving."""
    hosts = [u.strip() for u in url.split(",") if u.strip()]
    return OpenSearch(hosts=hosts, timeout=TIMEOUT_SECONDS, max_retries=len(hosts) + 1,
                      retry_on_timeout=True, http_compress=False)


@contextmanager
def reachable(url: str):
    """Turn a cluster that cannot be reached (or refuses to serve) into EngineUnavailable."""
    try:
        yield
    except os_errors.ConnectionError as exc:
        raise EngineUnavailable(f"the OpenSearch cluster at {url} cannot be reached "
                                f"(VNSEARCH_OPENSEARCH_URL): {_reason(exc)}") from None
    except os_errors.TransportError as exc:
        if isinstance(exc.status_code, int) and exc.status_code in (429, 502, 503, 504):
            raise EngineUnavailable(f"the OpenSearch cluster at {url} cannot serve now "
                                    f"({exc.status_code}: {_reason(exc)})") from None
        raise


def _reason(exc) -> str:
    info = getattr(exc, "info", None)
    if isinstance(info, Exception):
        text = str(info)
    else:
        text = str(getattr(exc, "error", "") or exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__
