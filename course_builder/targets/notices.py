"""What a target could not carry into its output: one summary line per kind, not one line per item.

A target reports with ``notice(log, kind, message, details)``. That is an ordinary logging warning
(library users and plug-ins see it through logging as before) whose record carries a Notice; `course
build` collects the records (``collected()``) and prints one line per kind, or every message with
--verbose. Warnings logged without a Notice are printed as they are.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

LOGGER = "course_builder.targets"


@dataclass(frozen=True)
class Notice:
    # The summary line, with {n} for how many and optionally {details} for where the counted details go:
    # "gift: {n} questions keep features that GIFT cannot express{details}"
    kind: str
    message: str  # this item, complete: what --verbose prints
    details: tuple[str, ...] = ()  # what is counted inside the kind, e.g. ("hints", "points")


def notice(logger: logging.Logger, kind: str, message: str, details: Iterable[str] = ()) -> None:
    logger.warning("%s", message, extra={"notice": Notice(kind, message, tuple(details))})


class NoticeCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.notices: list[Notice] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        item = getattr(record, "notice", None) or Notice(text, text)
        if item not in self.notices:  # several targets share the question bank and its warnings
            self.notices.append(item)

    def lines(self, verbose: bool = False) -> list[str]:
        by_kind: dict[str, list[Notice]] = {}
        for item in self.notices:
            by_kind.setdefault(item.kind, []).append(item)
        out = []
        for kind, items in by_kind.items():
            if verbose or len(items) == 1:
                out += [item.message for item in items]
                continue
            counts = Counter(detail for item in items for detail in item.details)
            counted = f" ({', '.join(f'{what} {n}' for what, n in counts.most_common())})" if counts else ""
            summary = kind.format(n=len(items), details=counted)
            out.append(f"{summary}{'' if '{details}' in kind else counted}; --verbose lists them")
        return [f"warning: {line}" for line in out]


@contextmanager
def collected() -> Iterator[NoticeCollector]:
    """Collect the targets' warnings while the block runs."""
    logger = logging.getLogger(LOGGER)
    collector = NoticeCollector()
    old_level = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.WARNING)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(old_level)
