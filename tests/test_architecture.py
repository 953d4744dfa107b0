"""The package's shape: no import cycles, no private names across modules, short modules and functions.

The checks read the source with :mod:`ast` (nothing is imported), so they see every import: at module level,
inside functions, under ``if TYPE_CHECKING:``, relative or absolute. The limits: modules up to 700 lines,
functions up to 80 (``def`` line to last line), and imports of reportmine's own modules at the top of a module
(type-only ones may sit under ``if TYPE_CHECKING:``), so that a module's dependencies show at its top. Heavy
third-party libraries may still be imported inside functions (tests/test_startup.py wants them lazy).

The checker functions take a package folder, so the last tests prove them on a small package made for the test.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import reportmine

PACKAGE_DIR = Path(reportmine.__file__).resolve().parent
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    """One import of a module of the package: who imports what, where, and in which context."""

    importer: str       # dotted name of the importing module
    target: str         # dotted name of the imported module (a package stands for its __init__)
    names: tuple[str, ...]  # names taken from the target (``from target import a, b``); () for ``import target``
    path: str           # the file, relative to the package's parent folder
    line: int
    in_function: bool
    type_checking: bool

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _shown(path: Path, package_dir: Path) -> str:
    return path.relative_to(package_dir.parent).as_posix()


def package_modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package under ``package_dir``: dotted name -> file. A package is its ``__init__.py``."""
    root = package_dir.name
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((root, *parts))] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk_imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement in ``tree`` with (inside a function, under ``if TYPE_CHECKING:``)."""

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> Iterator:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function, type_checking
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, in_function, True)
            for child in node.orelse:
                yield from visit(child, in_function, type_checking)
            return
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inner, type_checking)

    yield from visit(tree, False, False)


def _base_of(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute dotted name ``from X import ...`` refers to, for relative imports too."""
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]                  # a module's level 1 is its package
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def module_imports(package_dir: Path) -> list[Import]:
    """Every import, anywhere in the package, of one of the package's own modules."""
    modules = package_modules(package_dir)
    found = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node, in_function, type_checking in _walk_imports(tree):
            context = {"importer": importer, "path": _shown(path, package_dir), "line": node.lineno,
                       "in_function": in_function, "type_checking": type_checking}
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        found.append(Import(target=alias.name, names=(), **context))
                continue
            base = _base_of(node, importer, is_package)
            if base not in modules:
                continue
            taken = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:        # ``from .pkg import sub`` imports the submodule
                    found.append(Import(target=submodule, names=(), **context))
                else:
                    taken.append(alias.name)
            if taken or not node.names:
                found.append(Import(target=base, names=tuple(taken), **context))
    return found


def _shortest_cycle(start: str, graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside ``members`` (breadth first, so the report is short)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, ())):
                if target not in members:
                    continue
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    return []


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def import_cycles(package_dir: Path) -> list[str]:
    """One line per cycle of imports between the package's modules: a shortest cycle, with each import's place."""
    imports = module_imports(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in package_modules(package_dir)}
    where: dict[tuple[str, str], Import] = {}
    for imp in imports:
        graph[imp.importer].add(imp.target)
        where.setdefault((imp.importer, imp.target), imp)
    cycles = []
    for component in _strongly_connected(graph):
        start = min(component)
        if len(component) == 1 and start not in graph[start]:
            continue
        cycle = _shortest_cycle(start, graph, component)
        steps = " -> ".join(f"{a} ({where[a, b].where()})" for a, b in itertools.pairwise(cycle))
        others = sorted(component - set(cycle))
        tail = f"  [cycle group also holds {', '.join(others)}]" if others else ""
        cycles.append(f"{steps} -> {cycle[-1]}{tail}")
    return sorted(cycles)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _module_aliases(tree: ast.AST, importer: str, is_package: bool, modules: dict[str, Path]) -> dict[str, str]:
    """Local names bound to one of the package's modules: ``import a.b as m``, ``from . import m``, ``import a``."""
    aliases = {}
    for node, _, _ in _walk_imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in modules:
                    continue
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:                          # ``import a.b`` binds ``a``; ``a.b._x`` is resolved as a chain
                    top = alias.name.split(".")[0]
                    aliases.setdefault(top, top)
        else:
            base = _base_of(node, importer, is_package)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
    return aliases


def private_uses(package_dir: Path) -> list[str]:
    """Private names (``_x``, not dunders) one module takes from another: imported, or read as ``module._x``."""
    modules = package_modules(package_dir)
    found = []
    for imp in module_imports(package_dir):
        if imp.target == imp.importer:
            continue
        for name in imp.names:
            if _is_private(name):
                found.append(f"{imp.where()}: {imp.importer} imports {name} from {imp.target}")
        if not imp.names and _is_private(imp.target.rsplit(".", 1)[-1]):
            # a private module is its package's: its siblings and the package's __init__ may import it
            if imp.target.rsplit(".", 1)[0] not in (imp.importer, imp.importer.rsplit(".", 1)[0]):
                found.append(f"{imp.where()}: {imp.importer} imports private module {imp.target}")
    for importer, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        aliases = _module_aliases(tree, importer, path.name == "__init__.py", modules)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            chain = _dotted(node.value)
            if chain is None or chain.split(".")[0] not in aliases:
                continue
            head, *rest = chain.split(".")
            target = ".".join([aliases[head], *rest])
            if target in modules and target != importer:
                found.append(f"{_shown(path, package_dir)}:{node.lineno}: {importer} reads {target}.{node.attr}")
    return sorted(set(found))


def long_modules(package_dir: Path, limit: int = MAX_MODULE_LINES) -> list[str]:
    """Modules over ``limit`` lines."""
    found = []
    for path in package_modules(package_dir).values():
        lines = len(path.read_text("utf-8").splitlines())
        if lines > limit:
            found.append(f"{_shown(path, package_dir)}: {lines} lines")
    return found


def long_functions(package_dir: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions and methods over ``limit`` lines, counted from the ``def`` line to the last line."""
    found = []
    for name, path in package_modules(package_dir).items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{_shown(path, package_dir)}:{node.lineno}: {name}.{node.name} has {lines} lines")
    return found


def function_level_imports(package_dir: Path) -> list[str]:
    """Imports of the package's own modules inside functions (not under ``if TYPE_CHECKING:``)."""
    return [f"{imp.where()}: {imp.importer} imports {imp.target} inside a function"
            for imp in module_imports(package_dir) if imp.in_function and not imp.type_checking]


def _fail_listing(offenders: list[str], what: str) -> str:
    return f"{len(offenders)} {what}:\n  " + "\n  ".join(offenders)


# The package itself.

def test_no_import_cycles() -> None:
    cycles = import_cycles(PACKAGE_DIR)
    assert not cycles, _fail_listing(cycles, "import cycles between reportmine modules")


def test_no_private_names_across_modules() -> None:
    uses = private_uses(PACKAGE_DIR)
    assert not uses, _fail_listing(uses, "uses of another module's private names (make them public there)")


def test_no_module_over_the_limit() -> None:
    modules = long_modules(PACKAGE_DIR)
    assert not modules, _fail_listing(modules, f"modules over {MAX_MODULE_LINES} lines")


def test_no_function_over_the_limit() -> None:
    functions = long_functions(PACKAGE_DIR)
    assert not functions, _fail_listing(functions, f"functions over {MAX_FUNCTION_LINES} lines")


def test_own_modules_are_imported_at_the_top() -> None:
    imports = function_level_imports(PACKAGE_DIR)
    assert not imports, _fail_listing(imports, "imports of reportmine modules inside functions (move them to the top)")


# The checkers, on a package made for the test.

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def test_checkers_find_cycles_through_every_kind_of_import(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from .b import thing\n",                                   # relative
        "b.py": "def f():\n    import pkg.a\n",                             # absolute, inside a function
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import helper\n",
        "sub/__init__.py": "from . import inner\n",                         # a package's __init__ is a module
        "sub/inner.py": "from .. import c\n",
        "d.py": "from .sub import inner\n",                                 # the submodule, not sub/__init__
        "e.py": "import os\nfrom . import a as renamed\n",                  # no cycle: e is imported by nobody
        "f.py": "from .f import x\n",                                       # a module importing itself
    })
    imports = {(imp.importer, imp.target) for imp in module_imports(root)}
    assert ("pkg.d", "pkg.sub.inner") in imports and ("pkg.d", "pkg.sub") not in imports
    assert ("pkg.e", "pkg.a") in imports
    cycles = import_cycles(root)
    assert len(cycles) == 3, cycles
    assert cycles[0] == "pkg.a (pkg/a.py:1) -> pkg.b (pkg/b.py:2) -> pkg.a"
    assert cycles[1] == ("pkg.c (pkg/c.py:3) -> pkg.sub (pkg/sub/__init__.py:1) "
                         "-> pkg.sub.inner (pkg/sub/inner.py:1) -> pkg.c")
    assert cycles[2].startswith("pkg.f (") and cycles[2].endswith("-> pkg.f")
    assert import_cycles(_package(tmp_path / "clean", {"__init__.py": "", "a.py": "from . import b\n",
                                                       "b.py": "import json\n"})) == []


def test_checkers_find_private_names_taken_from_other_modules(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "from .a import public, __version__\n",
        "a.py": "_hidden = 1\npublic = 2\n__version__ = '1'\n",
        "b.py": "from .a import _hidden\n",
        "c.py": "import pkg.a\nx = pkg.a._hidden\n",
        "d.py": "from . import a as mod\ny = mod._hidden\nclass K:\n    def m(self):\n        return self._own\n",
        "e.py": "from pkg import a\nfrom json import _default_decoder\nz = a.public\n",
    })
    uses = private_uses(root)
    assert [use.split(": ", 1)[1] for use in uses] == [
        "pkg.b imports _hidden from pkg.a", "pkg.c reads pkg.a._hidden", "pkg.d reads pkg.a._hidden"], uses


def test_checkers_find_long_modules_and_functions_and_late_imports(tmp_path: Path) -> None:
    long_body = "".join(f"    x{i} = {i}\n" for i in range(79))
    root = _package(tmp_path, {
        "__init__.py": "",
        "ok.py": f"@decorator\ndef fits():\n{long_body}\n",                 # 80 lines from def: allowed
        "long.py": "class C:\n    def method(self):\n" + "".join(f"        x{i} = {i}\n" for i in range(80)),
        "lazy.py": ("from typing import TYPE_CHECKING\n"
                    "def f():\n    import json\n    from . import ok\n"
                    "    if TYPE_CHECKING:\n        from .long import C\n"),
        "big.py": "x = 1\n" * 701,
    })
    assert long_functions(root) == ["pkg/long.py:2: pkg.long.method has 81 lines"]
    assert long_modules(root) == ["pkg/big.py: 701 lines"]
    assert function_level_imports(root) == ["pkg/lazy.py:4: pkg.lazy imports pkg.ok inside a function"]
