"""What every reader returns: Moodle questions (the exporters' neutral form) grouped by category."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..targets.moodle.bank import MoodleQuestion

TEXT_FORMATS = ("html", "moodle_auto_format", "plain_text", "markdown")


@dataclass
class ReadQuestion:
    question: MoodleQuestion
    line: int  # where the question starts in the source file
    text_format: str = "html"  # of every text of the question: Moodle keeps one format per text, rarely mixed
    tags: list[str] = field(default_factory=list)


@dataclass
class ReadCategory:
    path: list[str]  # names below top, e.g. ["Kurs", "Modul 1"]
    questions: list[ReadQuestion] = field(default_factory=list)
    info: str = ""

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else "Importierte Fragen"


@dataclass
class Unimported:
    qtype: str
    line: int
    xml: str  # the question element as it stood in the source (GIFT: the question's text)


@dataclass
class ReadBank:
    file: str
    categories: list[ReadCategory] = field(default_factory=list)
    unimported: list[Unimported] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    _by_path: dict = field(default_factory=dict, repr=False)

    def category(self, path: list[str]) -> ReadCategory:
        cat = self._by_path.get(tuple(path))
        if cat is None:
            cat = self._by_path[tuple(path)] = ReadCategory(path)
            self.categories.append(cat)
        return cat

    @property
    def questions(self) -> list[ReadQuestion]:
        return [q for c in self.categories for q in c.questions]


def category_path(moodle_path: str) -> list[str]:
    """'$course$/top/A/B//C' → ['A', 'B/C']: the context and 'top' dropped, '//' an escaped '/'."""
    path = re.sub(r"^\$[a-z0-9]+\$/", "", moodle_path.strip())
    parts = [p.replace("\x00", "/") for p in path.replace("//", "\x00").split("/")]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return [p.strip() for p in parts if p.strip()]
