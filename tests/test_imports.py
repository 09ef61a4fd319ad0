"""Imports inside vlae_tf point down the package: no cycles, and none hidden inside functions.

The graph is read from the source with ``ast`` (nothing is imported): an edge ``a -> b`` for every module-level
``import vlae_tf.b`` / ``from vlae_tf.b import x`` in ``a`` (``x`` counts as a module when ``vlae_tf/b/x.py`` or
``vlae_tf/b/x/`` exists; a ``from`` import of submodules only has edges to them), plus an edge to every
package ``__init__`` such an import runs (``vlae_tf.export.signatures`` runs ``vlae_tf/export/__init__.py``). Imports under ``if TYPE_CHECKING:`` are not run, so they are left out.
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "vlae_tf"

# Heavy or optional third-party modules a function may import when it needs them (PIL for image folders,
# matplotlib for figures, grpc and tensorflow_serving for the gRPC client, tensorflow_datasets for TFDS).
LAZY_THIRD_PARTY = {"PIL", "grpc", "matplotlib", "tensorflow_datasets", "tensorflow_serving"}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported_modules(node: ast.stmt) -> list[str]:
    """The vlae_tf modules one import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "vlae_tf"]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "vlae_tf":
        names = [f"{node.module}.{alias.name}" for alias in node.names]
        submodules = [name for name in names if is_module(name)]
        # ``from vlae_tf import data`` loads the submodule; the package itself is already loading or loaded
        return submodules if len(submodules) == len(names) else [node.module] + submodules
    return []


def top_level_imports(tree: ast.Module) -> list[ast.stmt]:
    """Import statements run when the module loads: the body, and inside module-level if/try blocks."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending += node.body
            pending += node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
    return found


def sources() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def with_packages(importer: str, module: str) -> list[str]:
    """``module`` and the packages whose ``__init__`` importing it runs: each parent package that ``importer``
    is not itself inside (its own packages are already loading when its imports run)."""
    parts = module.split(".")
    parents = [".".join(parts[:i]) for i in range(2, len(parts))]
    return [p for p in parents if not importer.startswith(p + ".")] + [module]


def import_graph(trees: dict[str, ast.Module]) -> dict[str, set[str]]:
    return {name: {m for node in top_level_imports(tree) for imported in imported_modules(node)
                   for m in with_packages(name, imported) if m != name and m in trees}
            for name, tree in trees.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of ``graph``, or None (depth-first search with colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_reports_a_cycle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_module_level_imports():
    graph = import_graph(sources())
    assert "vlae_tf.config" in graph["vlae_tf.presets"]  # a known edge: the check reads real imports
    # importing a package's module runs the package's __init__, unless the importer is inside that package
    assert with_packages("vlae_tf.serving", "vlae_tf.export.signatures") == ["vlae_tf.export",
                                                                            "vlae_tf.export.signatures"]
    assert with_packages("vlae_tf.export.warmup", "vlae_tf.export.signatures") == ["vlae_tf.export.signatures"]


def test_vlae_tf_has_no_import_cycle():
    cycle = find_cycle(import_graph(sources()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_function_level_imports_of_vlae_tf_or_undeclared_modules():
    offenders = []
    for name, tree in sources().items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    roots = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    roots = ["." if node.level else (node.module or "").split(".")[0]]
                else:
                    continue
                offenders += [f"{name}:{node.lineno} imports {root}" for root in roots
                              if root not in LAZY_THIRD_PARTY]
    assert not offenders, "imports inside functions: " + "; ".join(sorted(set(offenders)))
