"""The package's layers (pyproject.toml, [tool.importlinter]): a lower layer never imports a higher
one, studies never import the engine (they read runs through rxlab.model's Result), and no modules
import each other in a cycle."""

import grimp
from importlinter.cli import lint_imports


def test_each_layer_imports_only_the_layers_below_it():
    assert lint_imports(no_cache=True) == 0  # EXIT_STATUS_SUCCESS; the report says which import breaks it


def cycles(graph, modules):
    """Every module on an import cycle, found by depth-first search over direct imports."""
    state, on_cycle = {}, set()

    def visit(m, path):
        state[m] = "open"
        for n in sorted(graph.find_modules_directly_imported_by(m) & modules):
            if state.get(n) == "open":
                on_cycle.update(path[path.index(n):])
            elif n not in state:
                visit(n, path + [n])
        state[m] = "done"

    for m in sorted(modules):
        if m not in state:
            visit(m, [m])
    return on_cycle


def test_no_import_cycles():
    graph = grimp.build_graph("rxlab", cache_dir=None)
    modules = graph.modules
    assert cycles(graph, modules) == set()


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert cycles(graph, graph.modules) == {"p.a", "p.b"}
