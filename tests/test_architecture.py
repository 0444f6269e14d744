"""The package's import graph shows its layers: imports point downward only, and there are no
cycles. Function-level imports count too: a lazy import is still a dependency."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_lockedcarts"

#: Higher layers may import lower ones, never the reverse. Top-level modules not named here
#: (urls, wagtail_hooks, apps, the middleware re-export) are the wiring and may import anything.
LAYERS = {
    "core": 0,
    "paypal": 1,
    "storefront": 2,
    "admin": 2,
    "modeladmin": 3,
    "background": 3,
    "management": 4,
    "templatetags": 3,
}
WIRING = {"urls", "wagtail_hooks", "apps", "middleware"}


def _modules():
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in relative.parts or "contrib" in relative.parts:
            continue
        name = ".".join(relative.parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


MODULES = _modules()


def _imports(name, path):
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            candidates = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name and candidate != "wagtail_lockedcarts":
                yield candidate


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def layer_of(module):
    parts = module.split(".")[1:]
    if not parts:
        return None
    if parts[0] in LAYERS:
        return parts[0]
    if parts[0] in WIRING:
        return None
    return "core"


def test_the_package_import_graph_has_no_cycles():
    cycles, done, stack = [], set(), []

    def visit(module):
        if module in stack:
            cycles.append(" -> ".join(stack[stack.index(module) :] + [module]))
            return
        if module in done:
            return
        stack.append(module)
        for target in sorted(GRAPH[module]):
            visit(target)
        stack.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if layer_of(m)))
def test_imports_point_downward_only(module):
    own = layer_of(module)
    upward = sorted(
        target
        for target in GRAPH[module]
        if layer_of(target) and layer_of(target) != own and LAYERS[layer_of(target)] >= LAYERS[own]
    )
    assert upward == [], f"{module} ({own}) imports a layer at or above its own"


def test_the_domain_imports_nothing_from_the_outer_layers():
    outer = ("admin", "storefront", "background", "paypal")
    offenders = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if layer_of(module) == "core"
        for target in targets
        if layer_of(target) in outer
    )
    assert offenders == []


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    """Guard for the guard: a lazy or relative import is a dependency like any other."""
    module = tmp_path / "example.py"
    module.write_text("def f():\n    from .models import Cart\n    from wagtail_lockedcarts.background import tasks\n")
    found = set(_imports("wagtail_lockedcarts.example", module))
    assert found == {"wagtail_lockedcarts.models", "wagtail_lockedcarts.background.tasks"}
