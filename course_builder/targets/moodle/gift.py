"""Target `gift`: the question bank in GIFT, as far as GIFT can hold it.

Written like Moodle's GIFT exporter (question/format/gift/format.php): HTML texts marked `[html]`,
the reserved characters ~ = # { } : and the backslash escaped everywhere, line breaks as `\\n`, one
`$CATEGORY:` block per module followed by a blank line. What GIFT cannot express (ordering
questions, hints, tags, combined feedback, points, embedded images, case-sensitive short answers) is
named in a `//` comment beside the question and reported as a warning (targets/notices.py; `course
build` prints one summary line on stderr, with --verbose one line per question).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ...model import Course
from ...units import Units
from .. import BuildOptions, register
from ..notices import notice
from .bank import Bank, MoodleQuestion, Text, bank, bank_inputs, number, php_float

log = logging.getLogger(__name__)
FILENAME = "questions.gift.txt"
RESERVED = str.maketrans({"\\": "\\\\", "#": "\\#", "=": "\\=", "~": "\\~", "{": "\\{", "}": "\\}", ":": "\\:",
                          "\n": "\\n", "\r": ""})


@register
class GiftTarget:
    name = "gift"
    description = "question bank as GIFT text (without what GIFT cannot express; warnings say what)"

    def units(self, course: Course, options: BuildOptions) -> Units:
        units = Units(course, self.name, options.cache)
        units.add(FILENAME, lambda: render(bank(course)).encode("utf-8"), bank_inputs(course))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)


def escape(value: str) -> str:
    """qformat_gift::repchar."""
    return value.translate(RESERVED)


def _html(t: Text) -> str:
    return "[html]" + escape(t.html)


def _answer_html(t: Text) -> str:
    # Answers inherit the question text's format, as Moodle's exporter leaves them unmarked.
    return escape(t.html)


def render(b: Bank) -> str:
    out = []
    for cat in b.categories:
        # The category line is taken verbatim by Moodle's importer (no unescaping), so it is not escaped.
        out.append(f"$CATEGORY: {cat.moodle_path}\n\n")
        for q in cat.questions:
            out.append(question(q))
    return "".join(out)


def lost_features(q: MoodleQuestion) -> list[str]:
    """What of q a GIFT file cannot carry."""
    lost = []
    if q.qtype == "ordering":
        return ["the ordering question type"]
    if q.hints:
        lost.append("hints")
    if q.tags:
        lost.append("tags")
    if any(t.html for t in (q.correct_feedback, q.partial_feedback, q.incorrect_feedback)):
        lost.append("correct/partially correct/incorrect feedback")
    if abs(q.default_mark - 1.0) > 1e-9:
        lost.append(f"points ({php_float(q.default_mark)})")
    if q.files:
        lost.append("embedded images")
    if q.use_case:
        lost.append("case-sensitive matching")
    if q.min_words or q.max_words:
        lost.append("word limits")
    if q.qtype == "match" and any("->" in s.text.html for s in q.subquestions):
        lost.append("'->' inside a matching item")
    return lost


def question(q: MoodleQuestion) -> str:
    lost = lost_features(q)
    head = f"// question: {q.idnumber}  name: {q.name}\n".replace("\n", " ").rstrip() + "\n"
    head += f"// [id:{q.idnumber.replace(']', chr(92) + ']')}]\n"
    if lost:
        what = ", ".join(lost)
        notice(log, "gift: {n} questions keep features that GIFT cannot express{details}; the Moodle XML bank has them",
               f"gift: question '{q.idnumber}' ({q.name}): GIFT cannot express {what}; the Moodle XML bank has it",
               [re.sub(r" \(.*\)$", "", feature).removeprefix("the ") for feature in lost])
        head += f"// not in GIFT: {what} (see the Moodle XML bank)\n"
    if q.qtype == "ordering" or (q.qtype == "match" and "'->' inside a matching item" in lost):
        return head + "\n"
    name = f"::{escape(q.name)}::"
    body = BODY[q.qtype](q)
    return head + name + _html(q.text) + body + "\n\n"


def _general(q: MoodleQuestion, indent: str = "\t") -> str:
    if not q.general_feedback.html:
        return ""
    text = "####" + _answer_html(q.general_feedback)
    return f"{indent}{text}\n" if indent else text


def _feedback(t: Text) -> str:
    return "#" + _answer_html(t) if t.html else ""


def _multichoice(q: MoodleQuestion) -> str:
    out = "{\n"
    for a in q.answers:
        if a.fraction == 1.0 and q.single:
            mark = "="
        elif a.fraction == 0:
            mark = "~"
        else:
            mark = f"~%{php_float(round(a.fraction * 100, 5))}%"
        out += "\t" + mark + _answer_html(a.text) + _feedback(a.feedback) + "\n"
    return out + _general(q) + "}"


def _truefalse(q: MoodleQuestion) -> str:
    true, false = q.answers
    right, wrong = (true, false) if true.fraction == 1.0 else (false, true)
    out = "{" + ("TRUE" if right is true else "FALSE")
    if wrong.feedback.html:
        out += "#" + _answer_html(wrong.feedback)
    elif right.feedback.html:
        out += "#"
    if right.feedback.html:
        out += "#" + _answer_html(right.feedback)
    return out + _general(q, "") + "}"


def _shortanswer(q: MoodleQuestion) -> str:
    out = "{\n"
    for a in q.answers:
        out += f"\t=%{php_float(round(a.fraction * 100, 5))}%{escape(a.text.html)}#{_answer_html(a.feedback)}\n"
    return out + _general(q) + "}"


def _numerical(q: MoodleQuestion) -> str:
    out = "{#\n"
    for a in q.answers:
        if a.text.html not in ("", "*"):
            out += (f"\t=%{php_float(round(a.fraction * 100, 5))}%{a.text.html}:{number(a.tolerance or 0.0)}"
                    f"#{_answer_html(a.feedback)}\n")
        else:
            out += f"\t~#{_answer_html(a.feedback)}\n"
    return out + _general(q) + "}"


def _match(q: MoodleQuestion) -> str:
    out = "{\n"
    for sub in q.subquestions:
        out += f"\t={_answer_html(sub.text)} -> {escape(sub.answer)}\n"
    return out + _general(q) + "}"


def _essay(q: MoodleQuestion) -> str:
    return "{" + _general(q, "") + "}"


BODY = {"multichoice": _multichoice, "truefalse": _truefalse, "shortanswer": _shortanswer, "numerical": _numerical,
        "match": _match, "essay": _essay}
