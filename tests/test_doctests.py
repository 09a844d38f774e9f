"""The Vietnamese examples in the modules' docstrings are tests too."""

import doctest
import importlib

import pytest

MODULES = ["analysis", "segmenter", "schema", "articles", "query", "search", "snippets", "suggest", "view"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"vnsearch.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0, f"vnsearch.{name} has no examples"
    assert failures == 0
