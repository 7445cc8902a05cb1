"""Finding cycles among projects that need each other (through path sources) to build.

``a`` needs ``b`` to build and ``b`` needs ``a``: no order of builds works, so this is reported
up front as ``a -> b -> a`` instead of recursing until something gives up.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from kiln.errors import KilnError

Node = TypeVar("Node", bound=Hashable)


def find_cycle(start: Node, needs: Callable[[Node], Iterable[Node]]) -> list[Node] | None:
    """A cycle reachable from ``start``, as ``[a, b, ..., a]``; None when there is none.

    ``needs(node)`` gives the nodes ``node`` needs; it is called at most once per node.
    """
    done: set[Node] = set()
    path: list[Node] = []
    on_path: dict[Node, int] = {}
    # Iterative depth-first search: each frame is (node, what it needs still to visit).
    frames: list[tuple[Node, list[Node]]] = []
    _enter(start, needs, frames, path, on_path)
    while frames:
        node, pending = frames[-1]
        if not pending:
            frames.pop()
            path.pop()
            del on_path[node]
            done.add(node)
            continue
        child = pending.pop()
        if child in on_path:
            return [*path[on_path[child] :], child]
        if child in done:
            continue
        _enter(child, needs, frames, path, on_path)
    return None


def _enter(
    node: Node,
    needs: Callable[[Node], Iterable[Node]],
    frames: list[tuple[Node, list[Node]]],
    path: list[Node],
    on_path: dict[Node, int],
) -> None:
    on_path[node] = len(path)
    path.append(node)
    frames.append((node, list(reversed(list(needs(node))))))


def check_no_cycle(
    start: Node,
    needs: Callable[[Node], Iterable[Node]],
    *,
    describe: Callable[[Node], str] = str,
    what: str = "build dependency",
) -> None:
    """Raise a :class:`KilnError` naming the chain when a cycle is reachable from ``start``."""
    cycle = find_cycle(start, needs)
    if cycle is None:
        return
    chain = " -> ".join(describe(node) for node in cycle)
    raise KilnError(
        f"{what} cycle: {chain}",
        hint="a project cannot need itself to build; remove one of the path sources in the chain",
    )
