"""The layout holds: lower layers never import higher ones, only one folder imports Whoosh,
no import cycle, and modules and functions stay small enough to read.

Layers, low to high, in LAYERS below (data flows one way: files -> articles -> documents -> storage engine
-> search -> CLI and web; the engines carry out what vnsearch.search defines).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"vnsearch": ROOT / "src" / "vnsearch", "vnsearch.web": ROOT / "web"}
LAYERS = [
    ("text", ["vnsearch", "vnsearch.analysis", "vnsearch.segmenter", "vnsearch.synonyms", "vnsearch.query",
              "vnsearch.config"]),
    ("articles", ["vnsearch.articles", "vnsearch.readers"]),
    ("documents", ["vnsearch.documents"]),
    ("search", ["vnsearch.search"]),
    ("engines", ["vnsearch.engines"]),
    ("product", ["vnsearch.serving", "vnsearch.cli", "vnsearch.web"]),
]
# Third-party packages only one folder may import.
OWNED = {"whoosh": "vnsearch.engines.whoosh", "opensearchpy": "vnsearch.engines.opensearch"}
ENGINES = ("whoosh", "opensearch")  # packages under vnsearch.engines; its other modules serve every engine
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The modules ``path`` imports (``from a.b import c`` gives ``a.b.c`` when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
    return out


def layer_of(module: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{module} belongs to no layer: add it to LAYERS"
    return rank


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    mine = layer_of(module)
    higher = [m for m in imports(MODULES[module]) if m.startswith("vnsearch") and layer_of(m) > mine]
    assert not higher, f"{module} ({LAYERS[mine][0]}) imports {higher}"


@pytest.mark.parametrize("package,owner", sorted(OWNED.items()))
def test_only_its_engine_imports_a_storage_library(package, owner):
    outside = [m for m, path in MODULES.items()
               if not (m == owner or m.startswith(owner + "."))
               and any(i == package or i.startswith(package + ".") for i in imports(path))]
    assert not outside, f"{package} imported outside {owner}: {outside}"


def test_engines_do_not_import_each_other_and_the_product_knows_none():
    for module, path in MODULES.items():
        engine = module.split(".")[2] if module.startswith("vnsearch.engines.") else None
        for imported in imports(path):
            if imported.startswith("vnsearch.engines.") and imported.split(".")[2] in ENGINES:
                other = imported.split(".")[2]
                assert engine == other or module == "vnsearch.engines", f"{module} imports {imported}"
            if layer_of(module) == len(LAYERS) - 1:
                assert imported not in ("vnsearch.analysis", "vnsearch.segmenter"), (
                    f"{module} imports {imported}: the CLI and the web do not analyse text")


def test_no_import_cycle():
    graph = {m: {i for i in imports(p, top_level_only=True) if i in MODULES and i != m} for m, p in MODULES.items()}
    # A package's __init__ is imported by its submodules anyway: an edge to it is no cycle of ours.
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in graph[node]:
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_fit_on_a_few_screens(module):
    source = MODULES[module].read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{module}: {source.count(chr(10))} lines"
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(ast.parse(source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{module}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_layer_check_sees_a_violation(tmp_path, monkeypatch):
    """The checks above can fail: a search module importing the web is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from vnsearch.web import create_app\nimport whoosh\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "vnsearch.search.bad", bad)
    with pytest.raises(AssertionError, match="imports"):
        test_no_module_imports_a_higher_layer("vnsearch.search.bad")
    with pytest.raises(AssertionError, match="whoosh imported outside"):
        test_only_its_engine_imports_a_storage_library("whoosh", "vnsearch.engines.whoosh")
