"""The Vietnamese examples in the modules' docstrings are tests too: every module's, found by walking the package."""

import doctest
import importlib
import pkgutil

import pytest

import vnsearch

MODULES = sorted(m.name for m in pkgutil.walk_packages(vnsearch.__path__, "vnsearch.")
                 if not m.name.startswith("vnsearch.engines.opensearch"))
# Modules whose examples are their documentation: losing them all is a regression.
WITH_EXAMPLES = ["vnsearch.analysis", "vnsearch.segmenter", "vnsearch.engines.whoosh.schema", "vnsearch.articles",
                 "vnsearch.query", "vnsearch.search.request", "vnsearch.search.ranking", "vnsearch.search.matching",
                 "vnsearch.search.snippets", "vnsearch.search.suggest", "vnsearch.engines.whoosh.caches",
                 "vnsearch.documents"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
    if name in WITH_EXAMPLES:
        assert tried > 0, f"{name} has no examples"


def test_the_modules_with_examples_exist():
    assert set(WITH_EXAMPLES) <= set(MODULES)
