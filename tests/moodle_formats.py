"""Strict readers of Moodle XML and GIFT question files, written for the tests from Moodle 4.5's importers.

They fail loudly (AssertionError) on anything Moodle's own importer would read differently or not
at all: unknown or missing elements, fractions outside Moodle's grade list, CDATA where Moodle's
exporter writes none (and the other way round), unescaped GIFT control characters.
"""

from __future__ import annotations

import base64
import html as htmllib
import re
from dataclasses import dataclass, field

from lxml import etree

from course_builder.quizparse import MOODLE_FRACTIONS

ALLOWED_PERCENTS = {f for f in MOODLE_FRACTIONS} | {-f for f in MOODLE_FRACTIONS}
COMMON = ["name", "questiontext", "generalfeedback", "defaultgrade", "penalty", "hidden", "idnumber"]
COMBINED = ["correctfeedback", "partiallycorrectfeedback", "incorrectfeedback", "shownumcorrect"]
BODY = {
    "multichoice": ["single", "shuffleanswers", "answernumbering", "showstandardinstruction", *COMBINED, "answer"],
    "truefalse": ["answer"],
    "shortanswer": ["usecase", "answer"],
    "numerical": ["answer", "unitgradingtype", "unitpenalty", "showunits", "unitsleft"],
    "match": ["shuffleanswers", *COMBINED, "subquestion"],
    "ordering": ["layouttype", "selecttype", "selectcount", "gradingtype", "showgrading", "numberingstyle",
                 "correctfeedback", "partiallycorrectfeedback", "incorrectfeedback", "shownumcorrect", "answer"],
    "essay": ["responseformat", "responserequired", "responsefieldlines", "minwordlimit", "maxwordlimit", "attachments",
              "attachmentsrequired", "maxbytes", "filetypeslist", "graderinfo", "responsetemplate"],
}


@dataclass
class ReadAnswer:
    text: str
    fraction: float  # percent as written (ordering: the position)
    feedback: str = ""
    tolerance: float | None = None


@dataclass
class ReadQuestion:
    qtype: str
    name: str
    text: str
    general_feedback: str = ""
    idnumber: str = ""
    category: str = ""
    default_grade: float | None = None
    answers: list[ReadAnswer] = field(default_factory=list)
    subquestions: list[tuple[str, str]] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    combined: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


# -- Moodle XML ----------------------------------------------------------------------------

def check_text_escaping(raw: str) -> int:
    """Every <text> is CDATA exactly when htmlspecialchars would change it; ']]>' only split. Returns the count."""
    count = 0
    for m in re.finditer(r"<text>(.*?)</text>", raw, re.S):
        body = m.group(1)
        count += 1
        if body.startswith("<![CDATA["):
            assert body.endswith("]]>"), body
            value = body[len("<![CDATA["):-3].replace("]]]]><![CDATA[>", "]]>")
            assert "]]>" not in body[len("<![CDATA["):-3].replace("]]]]><![CDATA[>", ""), body
            assert any(c in value for c in '&<>"'), f"CDATA without need: {body!r}"
        else:
            assert not any(c in body for c in '&<>"'), f"needs CDATA: {body!r}"
    return count


def _text(node, tag: str | None = None) -> str:
    target = node.find(tag) if tag else node
    assert target is not None, f"missing <{tag}> in <{node.tag}>"
    t = target.find("text")
    assert t is not None, f"<{target.tag}> has no <text>"
    return t.text or ""


def _files(node) -> dict[str, bytes]:
    out = {}
    for f in node.findall("file"):
        assert f.get("encoding") == "base64" and f.get("path") == "/", etree.tostring(f)
        out[f.get("name")] = base64.b64decode(f.text or "")
    return out


def _children_in_order(node, allowed: list[str]) -> None:
    tags = [c.tag for c in node if isinstance(c.tag, str)]
    unknown = [t for t in tags if t not in allowed and t != "hint"]
    assert not unknown, f"unexpected elements {unknown} in a {node.get('type')} question"
    for required in allowed:
        if required in ("answer", "subquestion", "shownumcorrect"):
            continue
        assert required in tags, f"<{required}> missing in a {node.get('type')} question"


def read_moodle_xml(raw: bytes) -> list[ReadQuestion]:
    text = raw.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n'), text[:60]
    check_text_escaping(text)
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, strip_cdata=False))
    assert root.tag == "quiz"
    questions: list[ReadQuestion] = []
    category = ""
    for node in root:
        if not isinstance(node.tag, str):
            continue
        assert node.tag == "question", node.tag
        qtype = node.get("type")
        if qtype == "category":
            category = _text(node, "category")
            assert category.startswith("$course$/top/"), category
            continue
        assert qtype != "match", "Moodle's exporter writes match questions as type 'matching'"
        qtype = {"matching": "match"}.get(qtype, qtype)
        assert qtype in BODY, f"unknown question type {qtype}"
        _children_in_order(node, COMMON + BODY[qtype])
        q = ReadQuestion(qtype, _text(node, "name"), _text(node, "questiontext"), _text(node, "generalfeedback"),
                         node.findtext("idnumber") or "", category, float(node.findtext("defaultgrade")))
        for tag in ("questiontext", "generalfeedback"):
            assert node.find(tag).get("format") == "html"
            q.files.update(_files(node.find(tag)))
        for tag in COMBINED[:3]:
            if node.find(tag) is not None:
                q.combined[tag] = _text(node, tag)
        for answer in node.findall("answer"):
            fraction = float(answer.get("fraction"))
            if qtype != "ordering":
                assert fraction in ALLOWED_PERCENTS, f"fraction {fraction} is not a Moodle grade"
            feedback = _text(answer, "feedback") if answer.find("feedback") is not None else ""
            tol = answer.findtext("tolerance")
            q.answers.append(ReadAnswer(_text(answer), fraction, feedback, float(tol) if tol is not None else None))
            q.files.update(_files(answer))
        for sub in node.findall("subquestion"):
            q.subquestions.append((_text(sub), _text(sub, "answer")))
        q.hints = [_text(h) for h in node.findall("hint")]
        for tag in BODY[qtype]:
            child = node.find(tag)
            if child is not None and child.find("text") is None and tag not in ("answer", "subquestion"):
                q.options[tag] = child.text or ""
        questions.append(q)
    return questions


# -- GIFT (qformat_gift::readquestion, condensed to what the exporter writes) ----------------

_ESCAPES = [("\\:", "\x01058"), ("\\#", "\x01035"), ("\\=", "\x01061"), ("\\{", "\x01123"), ("\\}", "\x01125"),
            ("\\~", "\x01126"), ("\\n", "\x01010")]
_PLAIN = {"\x01058": ":", "\x01035": "#", "\x01061": "=", "\x01123": "{", "\x01125": "}", "\x01126": "~",
          "\x01010": "\n"}


def _pre(text: str) -> str:
    text = text.replace("\\\\", "\x01092")
    for escaped, mark in _ESCAPES:
        text = text.replace(escaped, mark)
    assert "\\" not in text.replace("\x01092", ""), f"a lone backslash in GIFT: {text!r}"
    return text.replace("\x01092", "\\")


def _post(text: str) -> str:
    for mark, char in _PLAIN.items():
        text = text.replace(mark, char)
    return text


def _formatted(text: str) -> str:
    text = text.strip()
    if text.startswith("[html]"):
        text = text[len("[html]"):]
    return _post(text).strip()


def _weight(answer: str) -> tuple[float | None, str]:
    m = re.match(r"^%(-?[0-9]+(?:\.[0-9]+)?)%", answer)
    if not m:
        return None, answer
    return float(m.group(1)), answer[m.end():]


def _split_feedback(answer: str) -> tuple[str, str]:
    bits = answer.split("#", 1)
    return _formatted(bits[0]), _formatted(bits[1]) if len(bits) > 1 else ""


def read_gift(raw: bytes) -> list[ReadQuestion]:
    text = raw.decode("utf-8")
    blocks, current = [], []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("$CATEGORY:"):
            assert i + 1 < len(lines) and lines[i + 1] == "", "no blank line after a $CATEGORY: line"
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
        else:
            current.append(line.strip())
    if current:
        blocks.append(current)
    questions: list[ReadQuestion] = []
    category = ""
    for block in blocks:
        comments = [ln for ln in block if ln.startswith("//")]
        body = "\n".join(ln for ln in block if not ln.startswith("//")).strip()
        if not body:
            continue
        body = _pre(body)
        if body.startswith("$CATEGORY:"):
            category = body[len("$CATEGORY:"):].strip()
            continue
        idnumber = ""
        for c in comments:
            m = re.search(r"\[id:((?:\\\]|[^\]])*)\]", c)
            if m:
                idnumber = m.group(1).replace("\\]", "]")
        assert body.startswith("::"), f"question without a name: {body[:40]!r}"
        end = body.index("::", 2)
        name = _post(body[2:end])
        body = body[end + 2:].strip()
        start, finish = body.index("{"), body.index("}")
        assert body.count("{") == 1 and body.count("}") == 1, f"unescaped braces in {name!r}"
        assert finish == len(body) - 1, f"text after the answers in {name!r}"
        answers = body[start + 1:finish].strip()
        qtext = _formatted(body[:start])
        general = ""
        if "####" in answers:
            cut = answers.rindex("####")
            general = _formatted(answers[cut + 4:])
            answers = answers[:cut].strip()
        q = ReadQuestion("", name, qtext, general, idnumber, category)
        if answers == "":
            q.qtype = "essay"
        elif answers.startswith("#"):
            q.qtype = "numerical"
            for part in [p for p in re.split(r"(?=[=~])", answers[1:]) if p.strip()]:
                part = part.strip()
                if part.startswith("~"):
                    q.answers.append(ReadAnswer("*", 0.0, _split_feedback(part[1:])[1], 0.0))
                    continue
                weight, rest = _weight(part[1:].strip())
                value, feedback = _split_feedback(rest)
                number, _, tol = value.partition(":")
                assert "," not in number and "," not in tol, f"decimal comma in {name!r}"
                q.answers.append(ReadAnswer(number, 100.0 if weight is None else weight, feedback, float(tol or 0)))
        elif "~" in answers:
            q.qtype = "multichoice"
            q.options["single"] = "true" if "=" in answers else "false"
            for part in [p.strip() for p in answers.replace("=", "~=").split("~") if p.strip()]:
                if part.startswith("="):
                    weight, rest = 100.0, part[1:]
                else:
                    weight, rest = _weight(part)
                    weight = 0.0 if weight is None else weight
                assert weight in ALLOWED_PERCENTS, f"weight {weight} in {name!r}"
                answer, feedback = _split_feedback(rest)
                q.answers.append(ReadAnswer(answer, weight, feedback))
        elif "=" in answers and "->" in answers:
            q.qtype = "match"
            for part in [p.strip() for p in answers.split("=") if p.strip()]:
                left, arrow, right = part.partition("->")
                assert arrow, f"matching pair without '->' in {name!r}"
                q.subquestions.append((_formatted(left), _post(right).strip()))
        else:
            head = answers.split("#", 1)[0].strip()
            if head in ("T", "TRUE", "F", "FALSE"):
                q.qtype = "truefalse"
                bits = answers.split("#", 2) + ["", ""]
                wrong, right = _formatted(bits[1]), _formatted(bits[2])
                truth = head in ("T", "TRUE")
                q.answers = [ReadAnswer("true", 100.0 if truth else 0.0, right if truth else wrong),
                             ReadAnswer("false", 0.0 if truth else 100.0, wrong if truth else right)]
            else:
                q.qtype = "shortanswer"
                for part in [p.strip() for p in answers.split("=") if p.strip()]:
                    weight, rest = _weight(part)
                    answer, feedback = _split_feedback(rest)
                    q.answers.append(ReadAnswer(answer, 100.0 if weight is None else weight, feedback))
        questions.append(q)
    return questions


def unescape_html(value: str) -> str:
    return htmllib.unescape(value)
