"""Model questions → a quiz file in the authoring format (docs/authoring.md), which quizparse reads back."""

from __future__ import annotations

import yaml

from ..model import Answer, Html, Question
from ..quizparse import _plain_name  # the name the parser would derive: such names need no writing
from ..targets.moodle.bank import number

DEFAULT_SHUFFLE = True


def front_matter(title: str, module: str | None) -> str:
    meta = {"kind": "quiz", **({"module": module} if module else {}), "title": title}
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000) + "---\n"


def quiz_file(title: str, module: str | None, intro: str, questions: list[Question]) -> str:
    out = front_matter(title, module) + "\n"
    if intro.strip():
        out += intro.strip() + "\n\n"
    return out + "".join(question(q) for q in questions)


def _attrs(q: Question) -> str:
    attrs = []
    if q.id:
        attrs.append(f"id={q.id}")
    if q.group:
        attrs.append(f"group={q.group}")
    if q.objectives:
        attrs.append("objectives=" + ",".join(q.objectives))
    if q.tags:
        joined = ",".join(q.tags)
        attrs.append(f'tags="{joined}"' if any(c in joined for c in ' }=') else f"tags={joined}")
    if abs(q.points - 1.0) > 1e-9:
        attrs.append(f"points={number(q.points)}")
    if q.shuffle != DEFAULT_SHUFFLE and q.type in ("single", "multiple", "matching", "ordering"):
        attrs.append("shuffle=false")
    if q.case_sensitive and q.type == "short":
        attrs.append("case=true")
    if q.min_words:
        attrs.append(f"min_words={q.min_words}")
    if q.max_words:
        attrs.append(f"max_words={q.max_words}")
    return " {" + " ".join(attrs) + "}" if attrs else ""


def _indented(md: str, indent: str = "  ") -> str:
    """Feedback below an answer or keyword: every line indented; blank lines cannot be kept there."""
    return "\n".join(indent + line.strip() for line in md.split("\n") if line.strip())


def _answer(q: Question, a: Answer) -> str:
    if q.type == "matching":
        line = f"- {a.text.markdown} => {a.match.markdown if a.match else ''}".replace("-  =>", "- =>")
    elif q.type == "ordering":
        line = f"{int(a.value or 0)}. {a.text.markdown}"
    elif q.type in ("single", "truefalse"):
        line = f"- ({'x' if a.correct else ' '}) {a.text.markdown}"
    elif q.type == "multiple":
        line = f"- [{'x' if a.correct else ' '}] {a.text.markdown}{_weight(a, q)}"
    elif q.type == "numerical":
        tol = f" ± {number(a.tolerance)}" if a.tolerance else ""
        line = f"- = {number(a.value or 0.0)}{tol}{_weight(a, q)}"
    else:
        line = f"- = {a.text.markdown}{_weight(a, q)}"
    if a.feedback:
        line += "\n" + _indented(a.feedback.markdown)
    return line + "\n"


def _weight(a: Answer, q: Question) -> str:
    if not a.weight_given:
        return ""
    if q.type == "multiple" and abs(a.weight - _default_weight(a, q)) < 0.01:
        return ""
    return f" {{weight={number(a.weight)}}}"


def _default_weight(a: Answer, q: Question) -> float:
    right = [x for x in q.answers if x.correct]
    if a.correct:
        return round(100.0 / len(right), 5)
    return -round(100.0 / len(right), 5) if right else -100.0


def _keyword(key: str, value: Html) -> str:
    if not value:
        return ""
    first, _, rest = value.markdown.strip().partition("\n")
    return f"{key}: {first.strip()}\n" + (_indented(rest) + "\n" if rest.strip() else "")


def question(q: Question) -> str:
    name = "" if q.name == _plain_name(q.text.markdown) else q.name
    head = f"## {q.type}: {name}".rstrip() + _attrs(q) + "\n"
    out = head + q.text.markdown.strip() + "\n\n"
    if q.answers:
        out += "".join(_answer(q, a) for a in q.answers) + "\n"
    keywords = "".join(_keyword("hint", h) for h in q.hints)
    keywords += _keyword("feedback", q.feedback) + _keyword("correct", q.correct_feedback)
    keywords += _keyword("partial", q.partial_feedback) + _keyword("incorrect", q.incorrect_feedback)
    return out + (keywords + "\n" if keywords else "")
