"""A question's options as the sources name them, and grading a response read back from a source."""

from __future__ import annotations

import re

from .. import scoring
from ..model import TRUE_WORDS, Question
from ..player import choices

_MARKUP = re.compile(r"[*_`]|\\(?=.)")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """Option or question text as Moodle's response summaries print it, compared without case."""
    return _SPACE.sub(" ", _MARKUP.sub("", text)).strip().casefold()


def labels(q: Question) -> list[tuple[str, str, bool]]:
    """(key, label, correct) of each option a learner can pick; none for typed answers."""
    if q.type in ("single", "multiple", "truefalse"):
        return [(key, a.text.markdown.strip(), a.correct or a.weight > 0) for key, a in choices(q)]
    return []


def option_index(q: Question) -> dict[str, str]:
    """Plain option text → key; true/false also by the words Moodle prints in English and German.

    Computed once per question (keys are shuffled by a hash: an export of 10,000 rows asks 100,000 times)."""
    cached = _INDEX.get(id(q))
    if cached is not None and cached[0] is q:
        return cached[1]
    index = {plain(a.text.markdown): key for key, a in choices(q)}
    if q.type == "truefalse":
        for key, a in choices(q):
            truth = plain(a.text.markdown) in TRUE_WORDS
            for word in (("true", "wahr", "t") if truth else ("false", "falsch", "f")):
                index.setdefault(word, key)
    _INDEX[id(q)] = (q, index)
    return index


_INDEX: dict[int, tuple[Question, dict[str, str]]] = {}  # id → (question, index); the question kept alive


def weights(q: Question) -> dict[str, float]:
    cached = _WEIGHTS.get(id(q))
    if cached is None or cached[0] is not q:
        cached = _WEIGHTS[id(q)] = (q, {key: a.weight / 100 for key, a in choices(q)})
    return cached[1]


_WEIGHTS: dict[int, tuple[Question, dict[str, float]]] = {}


def grade_keys(q: Question, keys: tuple[str, ...]) -> float:
    """The fraction of chosen option keys, by the rules of course_builder.scoring (clamped to 0–1)."""
    w = weights(q)
    return max(0.0, min(1.0, sum(w.get(k, 0.0) for k in keys)))


def grade_text(q: Question, text: str) -> float:
    """A typed short or numerical answer, graded as the runtime grades it."""
    data = {"type": q.type, "caseSensitive": q.case_sensitive,
            "answers": [{"text": a.text.markdown.strip(), "value": a.value, "tolerance": a.tolerance,
                         "weight": a.weight, "key": str(i)} for i, a in enumerate(q.answers)]}
    graded = scoring.grade(data, text)
    return graded["fraction"] if graded else 0.0


def shorten(text: str, n: int) -> str:
    """An option's text on one line, cut to n characters for messages and tables."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
