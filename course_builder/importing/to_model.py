"""The neutral Moodle form → model questions with Markdown texts: bank.moodle_question run backwards."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from .. import diagnostics as d
from ..diagnostics import Diagnostic, SourceLoc
from ..markdown import rewrite_urls
from ..model import Answer, Html, Question
from ..targets.moodle.bank import File, Text, number
from .html_md import escape, to_markdown
from .read_form import ReadQuestion

QTYPE = {"multichoice": "single", "truefalse": "truefalse", "shortanswer": "short", "numerical": "numerical",
         "match": "matching", "ordering": "ordering", "essay": "essay"}
ID = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass
class Media:
    """Files the imported texts embed, written to media/ beside the quiz; one name per distinct content."""

    folder: str = "media"
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, f: File) -> str:
        name = re.sub(r"[^\w.-]+", "-", f.name).strip("-.") or "bild"
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate in self.files and self.files[candidate] != f.content:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        self.files[candidate] = f.content
        return f"{self.folder}/{candidate}"


class Converter:
    def __init__(self, file: str, media: Media):
        self.file = file
        self.media = media
        self.diagnostics: list[Diagnostic] = []

    def warn(self, code, line: int, message: str, hint: str = "") -> None:
        self.diagnostics.append(d.diag(code, SourceLoc(self.file, line, 1), message, hint))

    def md(self, t: Text, rq: ReadQuestion, what: str, inline: bool = False, fmt: str | None = None) -> Html:
        fmt = fmt or rq.text_format
        value = t.html.strip()
        if not value:
            return Html()
        if fmt == "markdown":
            return Html(markdown=value)
        if fmt in ("plain_text", "moodle_auto_format") and "<" not in value:
            text = escape(value)
            return Html(markdown=text if inline else text.replace("\n", "\\\n"))
        value = self.images(value, t, rq, what)
        md, clean = to_markdown(value, inline)
        if not clean:
            self.warn(d.IMPORT_HTML_KEPT, rq.line, f"question '{rq.question.name}': the {what} stays sanitised HTML",
                      "rewrite it in Markdown if it reads badly")
        return Html(markdown=md)

    def images(self, html: str, t: Text, rq: ReadQuestion, what: str) -> str:
        files = {f.name: f for f in t.files}

        def rewrite(url: str) -> str:
            if not url.startswith("@@PLUGINFILE@@/"):
                return url
            name = unquote(url[len("@@PLUGINFILE@@/"):].split("?")[0])
            f = files.get(name)
            if f is None:
                self.warn(d.IMPORT_IMAGE, rq.line, f"question '{rq.question.name}': the {what} embeds '{name}', "
                          "which the file does not contain", "add the image to media/ by hand")
                return "media/" + name
            return self.media.add(f)

        if "@@PLUGINFILE@@" in html:
            html = rewrite_urls(html, rewrite)
        for m in [] if "<img" not in html else re.finditer(r"<img\b(?![^>]*\balt=\"[^\"]+)[^>]*>", html):
            self.warn(d.IMPORT_IMAGE, rq.line, f"question '{rq.question.name}': an image in the {what} has no alt text",
                      "describe the image in its alt text: ![what it shows](media/…)")
        return html

    def question(self, rq: ReadQuestion) -> Question:
        mq = rq.question
        qtype = QTYPE[mq.qtype]
        if qtype == "single" and not mq.single:
            qtype = "multiple"
        md = lambda t, what, **kw: self.md(t, rq, what, **kw)  # noqa: E731
        q = Question(id=self.question_id(mq.idnumber, rq), type=qtype, name=_name(mq.name), text=md(mq.text, "text"),
                     points=mq.default_mark, feedback=md(mq.general_feedback, "general feedback"),
                     hints=[md(h, "hint") for h in mq.hints], shuffle=mq.shuffle, case_sensitive=mq.use_case,
                     min_words=mq.min_words, max_words=mq.max_words, tags=self.tags(rq),
                     loc=SourceLoc(self.file, rq.line, 1))
        if mq.qtype in ("multichoice", "match", "ordering"):
            q.correct_feedback = md(mq.correct_feedback, "feedback for right answers")
            q.partial_feedback = md(mq.partial_feedback, "feedback for partly right answers")
            q.incorrect_feedback = md(mq.incorrect_feedback, "feedback for wrong answers")
        getattr(self, "_" + qtype)(q, rq)
        return q

    def tags(self, rq: ReadQuestion) -> list[str]:
        """The tags the authoring format can hold: a comma or double quote cannot stand in `tags=`."""
        kept = [t for t in rq.tags if "," not in t and '"' not in t]
        dropped = [t for t in rq.tags if t not in kept]
        if dropped:
            self.warn(d.IMPORT_NOT_CARRIED, rq.line, f"tags {', '.join(dropped)} contain ',' or '\"' and are not carried over",
                      "rename the tags in Moodle, or add them by hand as {tags=…}")
        return kept

    def question_id(self, idnumber: str, rq: ReadQuestion) -> str:
        if not idnumber:
            return ""
        clean = re.sub(r"[^a-z0-9-]+", "-", idnumber.lower()).strip("-")
        if clean != idnumber:
            clean = clean or "q-" + hashlib.sha1(idnumber.encode()).hexdigest()[:8]
            self.warn(d.IMPORT_NOT_CARRIED, rq.line, f"idnumber '{idnumber}' is written as id '{clean}'",
                      "question ids use lower-case letters, digits and '-'")
        return clean

    def _answer(self, rq, a, inline_fmt: str | None = None, **fields) -> Answer:
        fmt = inline_fmt or ("plain_text" if a.format == "moodle_auto_format" else rq.text_format)
        return Answer(text=self.md(a.text, rq, "answer", inline=True, fmt=fmt),
                      feedback=self.md(a.feedback, rq, "answer feedback"), loc=SourceLoc(self.file, rq.line, 1), **fields)

    def _single(self, q: Question, rq: ReadQuestion) -> None:
        best = max((a.fraction for a in rq.question.answers), default=1.0)
        if any(0 < a.fraction < best for a in rq.question.answers) or best < 1.0:
            self.warn(d.IMPORT_NOT_CARRIED, rq.line, f"question '{q.name}': partial credit of a single-answer question "
                      "is not carried over; the best answer is marked right")
        for a in rq.question.answers:
            right = a.fraction == best
            q.answers.append(self._answer(rq, a, weight=100.0 if right else 0.0, correct=right))

    def _multiple(self, q: Question, rq: ReadQuestion) -> None:
        for a in rq.question.answers:
            q.answers.append(self._answer(rq, a, weight=round(a.fraction * 100, 5), correct=a.fraction > 0,
                                          weight_given=True))

    def _truefalse(self, q: Question, rq: ReadQuestion) -> None:
        for a in rq.question.answers:
            truth = a.text.html.strip().lower() in ("true", "wahr")
            answer = self._answer(rq, a, weight=100.0 if a.fraction >= 1 else 0.0, correct=a.fraction >= 1)
            answer.text = Html(markdown="wahr" if truth else "falsch")
            q.answers.append(answer)

    def _catch_all(self, q: Question, rq: ReadQuestion) -> list:
        answers = list(rq.question.answers)
        if answers and answers[-1].text.html.strip() == "*" and answers[-1].fraction == 0:
            q.incorrect_feedback = self.md(answers[-1].feedback, rq, "feedback for other answers")
            answers.pop()
        return answers

    def _short(self, q: Question, rq: ReadQuestion) -> None:
        for a in self._catch_all(q, rq):
            answer = self._answer(rq, a, weight=round(a.fraction * 100, 5), correct=a.fraction > 0,
                                  weight_given=abs(a.fraction - 1.0) > 1e-9)
            answer.text = Html(markdown=a.text.html.strip())  # Moodle compares the raw text: no Markdown escapes
            q.answers.append(answer)

    def _numerical(self, q: Question, rq: ReadQuestion) -> None:
        for a in self._catch_all(q, rq):
            try:
                value = float(a.text.html.strip().replace(",", "."))
            except ValueError:
                self.warn(d.IMPORT_NOT_CARRIED, rq.line, f"question '{q.name}': answer '{a.text.html}' is not a number; skipped")
                continue
            answer = self._answer(rq, a, weight=round(a.fraction * 100, 5), correct=a.fraction > 0,
                                  weight_given=abs(a.fraction - 1.0) > 1e-9, value=value, tolerance=a.tolerance or 0.0)
            answer.text = Html(markdown=number(value))
            q.answers.append(answer)

    def _matching(self, q: Question, rq: ReadQuestion) -> None:
        for sub in rq.question.subquestions:
            left = self.md(sub.text, rq, "matching item", inline=True)
            q.answers.append(Answer(text=left, match=Html(markdown=escape(sub.answer)), correct=bool(left),
                                    loc=SourceLoc(self.file, rq.line, 1)))

    def _ordering(self, q: Question, rq: ReadQuestion) -> None:
        for n, a in enumerate(sorted(rq.question.answers, key=lambda a: a.fraction), 1):
            q.answers.append(self._answer(rq, a, correct=True, value=float(n)))

    def _essay(self, q: Question, rq: ReadQuestion) -> None:
        pass


def _name(name: str) -> str:
    """A name the heading can hold: one line, no braces."""
    return re.sub(r"\s+", " ", name.replace("{", "(").replace("}", ")")).strip()
