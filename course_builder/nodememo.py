"""Values derived from one model node, remembered for as long as the node lives.

Model nodes are not changed after loading (the loader builds them; checks and targets only read
them), so a value computed from a node stays right for the node's whole life. The memo is keyed by
identity, not equality: hashing a node by value would cost what the memo saves, and two equal nodes
from different files are different nodes anyway. An entry goes when its node is freed.

In a single run this spares repeated work on the same node (a module's fingerprint is asked for by
several units). In a long-running process (`course preview`, `course build --watch`) the loader
hands out the very same node objects for files that did not change (session.py), so everything
derived from them survives from one rebuild to the next.
"""

from __future__ import annotations

import datetime as dt
import weakref
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

_MEMO: dict[tuple[str, int], tuple[weakref.ref, object]] = {}


def node_memo(kind: str, node: object, compute: Callable[[], T]) -> T:
    """compute() for this node and kind, once per node; kind names what is computed (and from what
    else, e.g. the course folder a fingerprint is relative to)."""
    key = (kind, id(node))
    found = _MEMO.get(key)
    if found is not None and found[0]() is node:
        return found[1]  # type: ignore[return-value]
    value = compute()
    try:
        # The callback holds the table itself: at interpreter exit the module's globals may be gone first.
        ref = weakref.ref(node, lambda _, key=key, memo=_MEMO: memo.pop(key, None))
    except TypeError:  # a node that cannot be weakly referenced is computed each time
        return value
    _MEMO[key] = (ref, value)
    return value


def same_objects(a, b) -> bool:
    """True if a and b are the same objects, or lists or tuples of the same objects; strings, bytes,
    numbers, paths and dates may be equal copies."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_objects(x, y) for x, y in zip(a, b))
    if isinstance(a, (str, bytes, int, float, Path, dt.date, dt.time)):
        return a == b
    return False
