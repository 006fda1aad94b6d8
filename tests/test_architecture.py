"""The rooms of ``passerlink/`` and the direction of their arrows (DESIGN.md's table).

Every import in the package, module-level or inside a function, is an arrow. An arrow may point
to the same room or to a room listed before it, never after; the simulator imports nothing of the
product (only the commands start it); and no chain of imports leads back to where it started. A newcomer who reads the table
finds the room for a change in one guess only while this holds.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "passerlink"

#: Rooms in the order of DESIGN.md: a module may import its own room and rooms above it.
ROOMS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("passerlink", "passerlink.people", "passerlink.errors", "passerlink.config",
              "passerlink.policy", "passerlink.processes")),
    ("features", ("passerlink.features",)),
    ("m5", ("passerlink.m5",)),
    ("sources", ("passerlink.sources",)),
    ("matching", ("passerlink.matching",)),
    ("sync", ("passerlink.sync",)),
    ("sampleworld", ("passerlink.sampleworld",)),
    ("workbench", ("passerlink.workbench", "passerlink.app")),
    ("commands", ("passerlink.commands", "passerlink.cli", "passerlink.__main__")),
]
ISOLATED = "passerlink.m5sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every passerlink module ``name`` imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def room_of(name: str) -> int:
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(ROOMS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank >= 0, f"{name} is in no room of DESIGN.md's table: add it to ROOMS"
    return rank


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def test_every_arrow_points_to_the_same_room_or_up() -> None:
    upward = []
    for name, targets in graph().items():
        if name.startswith(ISOLATED):
            continue
        for target in targets:
            if target.startswith(ISOLATED) and ROOMS[room_of(name)][0] != "commands":
                upward.append(f"{name} -> {target} (the simulator is not part of the product)")
            elif not target.startswith(ISOLATED) and target != "passerlink" and room_of(target) > room_of(name):
                upward.append(f"{name} ({ROOMS[room_of(name)][0]}) -> {target} ({ROOMS[room_of(target)][0]})")
    assert not upward, "imports pointing down the table:\n" + "\n".join(sorted(upward))


def test_the_simulator_imports_nothing_of_the_product() -> None:
    leaks = [
        f"{name} -> {t}"
        for name, targets in graph().items()
        if name.startswith(ISOLATED)
        for t in targets
        if not t.startswith(ISOLATED)
    ]
    assert not leaks, "\n".join(leaks)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(edges, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if colour.get(nxt) == GREY:
                return [*stack[stack.index(nxt):], nxt]
            if colour.get(nxt) == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(edges):
        if colour[node] == WHITE:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle in itself; a module that
    # imports its package's __init__ back (or any other loop) is.
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_finds_a_cycle_and_an_upward_arrow() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert room_of("passerlink.sync.engine") > room_of("passerlink.sources._csv")
    assert room_of("passerlink.features.text") < room_of("passerlink.matching.session")
