"""The quiz syntax: Markdown with one `## type: name {attrs}` heading per question (docs/authoring.md)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from . import diagnostics as d
from .diagnostics import Diagnostic, SourceLoc
from .markdown import render
from .model import FALSE_WORDS, QUESTION_TYPES, TRUE_WORDS, Answer, Html, Question

HEADING = re.compile(r"^##(?!#)\s*(?P<type>[^\s:{]*)\s*(?::\s*(?P<name>[^{]*?))?\s*(?P<attrs>\{.*\})?\s*$")
KEYWORD = re.compile(r"^(?P<key>hint|feedback|correct|partial|incorrect):(?:\s+(?P<text>.*))?$")
ANSWER_SHAPES = {
    "radio": re.compile(r"^[-*] \((?P<mark>[xX ]?)\)(?:\s+(?P<text>.*))?$"),
    "check": re.compile(r"^[-*] \[(?P<mark>[xX ]?)\](?:\s+(?P<text>.*))?$"),
    "value": re.compile(r"^[-*] =(?:\s*(?P<text>.*))?$"),
    "pair": re.compile(r"^[-*] (?P<left>.*?)\s*=>\s*(?P<right>.*)$"),
    "item": re.compile(r"^(?P<num>\d+)[.)](?:\s+(?P<text>.*))?$"),
}
SHAPE_OF_TYPE = {
    "single": "radio", "truefalse": "radio", "multiple": "check", "short": "value",
    "numerical": "value", "matching": "pair", "ordering": "item", "essay": None,
}
SHAPE_EXAMPLE = {"radio": "- (x) …", "check": "- [x] …", "value": "- = …", "pair": "- left => right", "item": "1. …"}
ATTRIBUTES = {"id", "group", "objectives", "tags", "points", "shuffle", "case", "min_words", "max_words"}
ATTR = re.compile(r'(?P<key>[A-Za-z_][\w-]*)\s*=\s*(?:"(?P<q>[^"]*)"|(?P<v>[^\s}]*))')
WEIGHT = re.compile(r"\s*(?<!\\)\{\s*weight\s*=\s*(?P<w>[^}]*)\}\s*$")
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
NUMERICAL = re.compile(rf"^(?P<value>{NUMBER})\s*(?:(?:±|\+-|\+/-)\s*(?P<tol>{NUMBER}))?$")
DECIMAL_COMMA = re.compile(r"\d,\d")

MOODLE_FRACTIONS = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,
                    16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0)


def moodle_fraction(weight: float) -> float | None:
    """The Moodle grade closest to |weight|, if it is within Moodle's tolerance."""
    for f in MOODLE_FRACTIONS:
        if abs(abs(weight) - f) < 0.01:
            return f if weight >= 0 else -f
    return None


@dataclass
class _Block:
    """Lines of one question, each with its file line number."""

    heading: re.Match | None
    heading_line: int
    raw_heading: str
    lines: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ParsedQuiz:
    intro: Html
    questions: list[Question]
    diagnostics: list[Diagnostic]
    texts: list[tuple[SourceLoc, str]]  # plain text with its start, for text checks
    links: list = field(default_factory=list)


class _Parser:
    def __init__(self, file: str, file_lines: list[str], quiz_id: str, resolve_image, links: list):
        self.resolve_image = resolve_image
        self.links = links
        self.file = file
        self.file_lines = file_lines
        self.quiz_id = quiz_id
        self.diagnostics: list[Diagnostic] = []
        self.texts: list[tuple[SourceLoc, str]] = []
        self.assets: list = []

    def loc(self, line: int, col: int = 1) -> SourceLoc:
        return SourceLoc(self.file, line, col)

    def err(self, code, line, col, message, hint="") -> None:
        self.diagnostics.append(d.diag(code, self.loc(line, col), message, hint))

    def md(self, text: str, line: int, inline: bool = False) -> Html:
        if not text.strip():
            return Html()
        r = render(text, self.loc(line), self.file_lines, inline=inline)
        self.diagnostics.extend(r.diagnostics)
        self.texts.append((self.loc(line), text))
        self.assets.extend(self.resolve_image(img) for img in r.images)
        self.links.extend(r.links)
        return Html(markdown=text, html=r.html)

    # -- blocks

    def split(self, body: str, first_line: int) -> tuple[list[tuple[int, str]], list[_Block]]:
        intro: list[tuple[int, str]] = []
        blocks: list[_Block] = []
        in_fence = False
        for i, text in enumerate(body.split("\n")):
            line = first_line + i
            if text.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            if not in_fence and text.startswith("##") and not text.startswith("###"):
                blocks.append(_Block(HEADING.match(text), line, text))
                continue
            (blocks[-1].lines if blocks else intro).append((line, text))
        return intro, blocks

    def parse(self, body: str, first_line: int) -> ParsedQuiz:
        intro_lines, blocks = self.split(body, first_line)
        intro_text = "\n".join(t for _, t in intro_lines).strip("\n")
        start = next((ln for ln, t in intro_lines if t.strip()), first_line)
        intro = self.md(intro_text, start)
        questions = []
        for n, block in enumerate(blocks, 1):
            q = self.question(block, n)
            if q is not None:
                questions.append(q)
        return ParsedQuiz(intro, questions, self.diagnostics, self.texts, self.links)

    # -- one question

    def question(self, block: _Block, n: int) -> Question | None:
        line = block.heading_line
        m = block.heading
        if m is None or not m.group("type"):
            self.err(d.QUIZ_SYNTAX, line, 1, "question heading must be '## type: name {attributes}'",
                     "e.g. '## single: Erster Schritt {objectives=akteure}'")
            return None
        qtype = m.group("type").lower()
        if qtype not in QUESTION_TYPES:
            close = difflib.get_close_matches(qtype, QUESTION_TYPES, n=1)
            self.err(d.QUIZ_UNKNOWN_TYPE, line, m.start("type") + 1, f"unknown question type '{m.group('type')}'",
                     (f"did you mean '{close[0]}'? " if close else "") + "types: " + ", ".join(QUESTION_TYPES))
            return None
        attrs, attr_locs = self.attributes(m, line)
        self.assets = []
        text_lines, answers_raw, keywords = self.sections(block, qtype)
        text_start = next((ln for ln, t in text_lines if t.strip()), line)
        text_md = "\n".join(t for _, t in text_lines).strip("\n")
        if not text_md.strip():
            self.err(d.QUIZ_SYNTAX, line, 1, "question has no text", "write the question below its heading")
        text = self.md(text_md, text_start)
        name = (m.group("name") or "").strip() or _plain_name(text_md) or f"Frage {n}"
        answers = self.answers(qtype, answers_raw, line)
        fields = {"hint": [], "feedback": Html(), "correct": Html(), "partial": Html(), "incorrect": Html()}
        for key, kline, ktext in keywords:
            html = self.md(ktext, kline)
            if key == "hint":
                fields["hint"].append(html)
            else:
                if fields[key]:
                    self.err(d.QUIZ_SYNTAX, kline, 1, f"'{key}:' is given twice", "merge the two texts")
                fields[key] = html
        points = attrs.get("points", 1.0)
        q = Question(
            id=attrs.get("id") or f"{self.quiz_id}-{n}", type=qtype, name=name, text=text, points=points,
            objectives=attrs.get("objectives", []), tags=attrs.get("tags", []), group=attrs.get("group"), answers=answers, hints=fields["hint"],
            feedback=fields["feedback"], correct_feedback=fields["correct"], partial_feedback=fields["partial"],
            incorrect_feedback=fields["incorrect"], shuffle=attrs.get("shuffle", True),
            case_sensitive=attrs.get("case", False), min_words=attrs.get("min_words"),
            max_words=attrs.get("max_words"), loc=self.loc(line, 1), attr_locs=attr_locs,
        )
        q.assets = list(self.assets)
        self.validate(q, answers_raw, line)
        return q

    def attributes(self, m: re.Match, line: int) -> tuple[dict, dict]:
        out: dict = {}
        locs: dict = {}
        raw = m.group("attrs")
        if not raw:
            return out, locs
        base = m.start("attrs") + 1  # position after '{' is base+1 in 1-based columns
        inner = raw[1:-1]
        pos = 0
        for am in ATTR.finditer(inner):
            gap = inner[pos:am.start()].strip()
            if gap:
                self.err(d.QUIZ_ATTRIBUTE, line, base + 1 + pos, f"cannot read '{gap}' in the attributes",
                         "write attributes as key=value, separated by spaces")
            pos = am.end()
            key = am.group("key")
            value = am.group("q") if am.group("q") is not None else am.group("v")
            col = base + 1 + am.start()
            locs[key] = self.loc(line, col)
            if key not in ATTRIBUTES:
                close = difflib.get_close_matches(key, sorted(ATTRIBUTES), n=1)
                self.err(d.QUIZ_ATTRIBUTE, line, col, f"unknown attribute '{key}'",
                         f"did you mean '{close[0]}'?" if close else "attributes: " + ", ".join(sorted(ATTRIBUTES)))
                continue
            try:
                out[key] = _attr_value(key, value)
            except ValueError as exc:
                self.err(d.QUIZ_ATTRIBUTE, line, col, f"attribute {key}: {exc}", _ATTR_HINTS[key])
        rest = inner[pos:].strip()
        if rest:
            self.err(d.QUIZ_ATTRIBUTE, line, base + 1 + pos, f"cannot read '{rest}' in the attributes",
                     "write attributes as key=value, separated by spaces")
        return out, locs

    def sections(self, block: _Block, qtype: str):
        """Split a question's lines into text, answers (with feedback) and keyword sections."""
        shape = SHAPE_OF_TYPE[qtype]
        text: list[tuple[int, str]] = []
        answers: list[dict] = []
        keywords: list[list] = []
        phase = "text"
        current: dict | list | None = None
        for line, raw in block.lines:
            if phase == "text" and _answer_shape(raw, shape) is None and not KEYWORD.match(raw):
                text.append((line, raw))
                continue
            if not raw.strip():
                continue
            if raw.startswith((" ", "\t")):
                if current is None:
                    self.err(d.QUIZ_SYNTAX, line, 1, "indented text belongs to no answer",
                             "indent feedback below the answer it explains")
                elif isinstance(current, dict):
                    current["feedback"].append((line, raw.strip()))
                else:
                    current[2] += "\n" + raw.strip()
                continue
            km = KEYWORD.match(raw)
            if km:
                phase = "keywords"
                current = [km.group("key"), line, km.group("text") or ""]
                keywords.append(current)
                continue
            found = _answer_shape(raw, shape)
            if found is not None and phase != "keywords":
                phase = "answers"
                shape_name, am = found
                if shape_name != shape:
                    expected = SHAPE_EXAMPLE.get(shape) if shape else None
                    self.err(d.Q_ANSWERS_NOT_ALLOWED, line, 1,
                             f"'{raw[:12].strip()}…' is not an answer of a {qtype} question",
                             f"{qtype} answers are written '{expected}'" if expected else f"{qtype} questions take no answers")
                    current = None
                    continue
                current = {"line": line, "raw": raw, "m": am, "feedback": []}
                answers.append(current)
                continue
            where = "after the answers" if phase == "answers" else "after the keyword lines"
            self.err(d.QUIZ_SYNTAX, line, 1, f"unexpected text {where}",
                     "indent it by two spaces to make it feedback, or start the line with 'feedback:'")
        return text, answers, [tuple(k) for k in keywords]

    def answers(self, qtype: str, raw_answers: list[dict], line: int) -> list[Answer]:
        out = []
        for raw in raw_answers:
            m: re.Match = raw["m"]
            aline = raw["line"]
            fb_lines = raw["feedback"]
            feedback = self.md("\n".join(t for _, t in fb_lines), fb_lines[0][0]) if fb_lines else Html()
            answer = Answer(loc=self.loc(aline, 1), feedback=feedback)
            if qtype == "matching":
                left, right = m.group("left").strip(), m.group("right").strip()
                answer.text = self.md(left, aline, inline=True) if left else Html()
                answer.match = self.md(right, aline, inline=True)
                answer.correct = bool(left)
                out.append(answer)
                continue
            text = (m.group("text") or "").strip()
            weight_m = WEIGHT.search(text)
            if weight_m:
                text = text[:weight_m.start()].rstrip()
                try:
                    answer.weight = float(weight_m.group("w").strip().rstrip("%").replace(",", "."))
                    answer.weight_given = True
                    if "," in weight_m.group("w"):
                        raise ValueError
                except ValueError:
                    self.err(d.Q_BAD_NUMBER, aline, raw["raw"].find("{") + 1, f"weight '{weight_m.group('w')}' is not a number",
                             "write a percentage like {weight=50} or {weight=-25}, with a decimal point")
                    answer.weight_given = False
            text = text.replace("\\{", "{")
            if qtype in ("single", "truefalse", "multiple"):
                answer.correct = m.group("mark").lower() == "x"
            if qtype == "ordering":
                answer.correct = True
                answer.value = float(m.group("num"))
            if qtype == "numerical":
                self.numerical(answer, text, aline, raw["raw"])
                answer.text = Html(markdown=text, html=text)
            else:
                answer.text = self.md(text, aline, inline=True)
            if qtype in ("short", "numerical"):
                if not answer.weight_given:
                    answer.weight = 100.0
                answer.correct = answer.weight > 0
            out.append(answer)
        if qtype in ("single", "truefalse"):
            for a in out:
                a.weight = 100.0 if a.correct else 0.0
        if qtype == "multiple":
            self.multiple_weights(out)
        return out

    def numerical(self, answer: Answer, text: str, line: int, raw: str) -> None:
        col = raw.find("=") + 2
        comma = DECIMAL_COMMA.search(raw, col - 1)
        if comma:
            self.err(d.Q_DECIMAL_COMMA, line, comma.start() + 1, f"'{text}' uses a decimal comma",
                     "write numbers with a decimal point: 2.5, not 2,5")
            return
        nm = NUMERICAL.match(re.sub(r"\s+", "", text))
        if not nm:
            self.err(d.Q_BAD_NUMBER, line, col, f"'{text}' is not a number with an optional tolerance",
                     "write e.g. '- = 42', '- = 42 ± 0.5' or '- = 42 +- 0.5'")
            return
        answer.value = float(nm.group("value"))
        answer.tolerance = abs(float(nm.group("tol"))) if nm.group("tol") else 0.0

    @staticmethod
    def multiple_weights(answers: list[Answer]) -> None:
        right = [a for a in answers if a.correct]
        given = sum(a.weight for a in right if a.weight_given)
        open_right = [a for a in right if not a.weight_given]
        for a in open_right:
            a.weight = round((100.0 - given) / len(open_right), 5)
        for a in answers:
            if not a.correct and not a.weight_given:
                a.weight = -round(100.0 / len(right), 5) if right else -100.0

    # -- per-type rules

    def validate(self, q: Question, raw_answers: list[dict], line: int) -> None:
        answers = q.answers
        if q.type == "essay":
            return
        if not answers:
            self.err(d.Q_NO_ANSWERS, line, 1, f"{q.type} question has no answers",
                     f"add answers written '{SHAPE_EXAMPLE[SHAPE_OF_TYPE[q.type]]}'")
            return
        if q.type == "single":
            right = sum(a.correct for a in answers)
            if right != 1:
                self.err(d.Q_SINGLE_CORRECT, line, 1, f"single choice has {right} right answers, needs exactly one",
                         "mark one answer with (x), or use 'multiple' for several right answers")
            if len(answers) < 2:
                self.err(d.Q_NO_ANSWERS, line, 1, "single choice needs at least two answers", "add a wrong answer")
        elif q.type == "truefalse":
            words = [a.text.markdown.strip().lower() for a in answers]
            trues = [w for w in words if w in TRUE_WORDS]
            falses = [w for w in words if w in FALSE_WORDS]
            if len(answers) != 2 or len(trues) != 1 or len(falses) != 1 or sum(a.correct for a in answers) != 1:
                self.err(d.Q_TRUEFALSE, line, 1, "true/false needs exactly two answers, 'wahr' and 'falsch', one marked (x)",
                         "write '- (x) wahr' and '- ( ) falsch' (or the other way round)")
        elif q.type == "multiple":
            right = [a for a in answers if a.correct]
            if not right:
                self.err(d.Q_NO_FULL_CREDIT, line, 1, "multiple choice has no right answer", "mark right answers with [x]")
            total = sum(a.weight for a in right)
            if right and abs(total - 100) > 0.01:
                self.err(d.Q_WEIGHTS, right[0].loc.line, 1, f"weights of the right answers add up to {total:g}, not 100",
                         "make the weights of the [x] answers add up to 100")
            for a in answers:
                if a.correct and a.weight <= 0 or not a.correct and a.weight > 0:
                    self.err(d.Q_WEIGHTS, a.loc.line, 1, f"a {'right' if a.correct else 'wrong'} answer has weight {a.weight:g}",
                             "right answers need a positive weight, wrong ones zero or a negative one")
        elif q.type in ("short", "numerical"):
            if not any(a.weight >= 99.999 for a in answers):
                self.err(d.Q_NO_FULL_CREDIT, line, 1, "no answer gives full credit", "one answer needs weight 100 (the default)")
            for a in answers:
                if a.weight > 100 or a.weight < 0:
                    self.err(d.Q_WEIGHTS, a.loc.line, 1, f"weight {a.weight:g} is outside 0–100", "use a percentage from 0 to 100")
        elif q.type == "matching":
            pairs = [a for a in answers if a.text]
            if len(pairs) < 2:
                self.err(d.Q_MATCHING_PAIRS, line, 1, f"matching has {len(pairs)} pair(s), needs at least two",
                         "add pairs written '- left => right'")
            seen: set[str] = set()
            for a in pairs:
                key = a.text.markdown.strip().lower()
                if key in seen:
                    self.err(d.Q_DUPLICATE_ANSWER, a.loc.line, 3, f"left side '{a.text.markdown}' appears twice",
                             "each left side must be unique")
                seen.add(key)
        elif q.type == "ordering":
            if len(answers) < 2:
                self.err(d.Q_ORDERING_ITEMS, line, 1, "ordering needs at least two items", "add items '1. …', '2. …'")
            for i, a in enumerate(answers, 1):
                if a.value != i:
                    self.err(d.QUIZ_SYNTAX, a.loc.line, 1, f"item is numbered {a.value:g}, expected {i}",
                             "number the items 1, 2, 3 … in the correct order")
                    break
        if q.type in ("single", "multiple", "short"):
            seen_text: set[str] = set()
            # Under {case=true} Moodle tells 'Netzwerk' from 'netzwerk', so both may be listed.
            exact = q.type == "short" and q.case_sensitive
            for a in answers:
                key = a.text.markdown.strip() if exact else a.text.markdown.strip().lower()
                if key in seen_text:
                    self.err(d.Q_DUPLICATE_ANSWER, a.loc.line, 1, f"answer '{a.text.markdown[:40]}' appears twice", "remove one")
                seen_text.add(key)
        if q.type in ("multiple", "short", "numerical"):
            for a in answers:
                if a.weight_given and moodle_fraction(a.weight) is None:
                    self.diagnostics.append(d.diag(d.Q_MOODLE_FRACTION, self.loc(a.loc.line, 1),
                                                   f"weight {a.weight:g} is not a grade Moodle offers",
                                                   "use one of " + ", ".join(f"{f:g}" for f in MOODLE_FRACTIONS)))
        for a in answers:
            if not a.feedback:
                self.diagnostics.append(d.diag(d.Q_NO_FEEDBACK, a.loc, "answer has no feedback",
                                               "add indented lines below the answer saying why it is right or wrong"))


def _answer_shape(raw: str, expected: str | None) -> tuple[str, re.Match] | None:
    """The answer shape of a line: the expected one, or another unmistakable one (an author's slip)."""
    if expected:
        m = ANSWER_SHAPES[expected].match(raw)
        if m:
            return expected, m
    # Numbered lists and '=>' are ordinary prose elsewhere; only these three shapes are unmistakable.
    for name in ("radio", "check", "value"):
        m = ANSWER_SHAPES[name].match(raw)
        if m:
            return name, m
    return None


_ATTR_HINTS = {
    "id": "ids use lower-case letters, digits and '-'",
    "group": "a pool name of lower-case letters, digits and '-', drawn from with 'draw: N from NAME'",
    "objectives": "list objective ids separated by commas: objectives=akteure,phasen",
    "tags": 'Moodle question tags separated by commas, quoted if one has a space: tags="Laterale Führung,Glasl"',
    "points": "points are a positive number: points=2",
    "shuffle": "write shuffle=true or shuffle=false",
    "case": "write case=true or case=false",
    "min_words": "a whole number: min_words=100",
    "max_words": "a whole number: max_words=400",
}


def _attr_value(key: str, value: str):
    if key in ("id", "group"):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
            raise ValueError(f"'{value}' is not a valid {key}")
        return value
    if key in ("objectives", "tags"):
        items = [v.strip() for v in value.split(",") if v.strip()]
        if not items:
            raise ValueError(f"no {key[:-1]} given")
        return items
    if key == "points":
        if "," in value:
            raise ValueError(f"'{value}' uses a decimal comma")
        points = float(value)
        if not points > 0 or points > 1000:
            raise ValueError(f"{value} is not a positive number of points")
        return points
    if key in ("shuffle", "case"):
        if value not in ("true", "false"):
            raise ValueError(f"'{value}' is not true or false")
        return value == "true"
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _plain_name(markdown: str) -> str:
    text = re.sub(r"[*_`#>\[\]!]|\(.*?\)", "", markdown).strip().split("\n")[0]
    return text[:60].rstrip() + ("…" if len(text) > 60 else "")


def parse(body: str, first_line: int, file: str, file_lines: list[str], quiz_id: str, resolve_image) -> ParsedQuiz:
    return _Parser(file, file_lines, quiz_id, resolve_image, []).parse(body, first_line)
