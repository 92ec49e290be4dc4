"""Reader of GIFT files (qformat_gift::readquestion of Moodle 4.5, for the types the quiz format has)."""

from __future__ import annotations

import re

from .. import diagnostics as d
from ..diagnostics import SourceLoc
from ..targets.moodle.bank import MoodleAnswer, MoodleQuestion, Subquestion, Text
from .errors import ImportFailed
from .read_form import ReadBank, ReadQuestion, Unimported, category_path

_ESCAPES = {"\\\\": "\x01a", "\\:": "\x01b", "\\#": "\x01c", "\\=": "\x01d", "\\{": "\x01e", "\\}": "\x01f",
            "\\~": "\x01g", "\\n": "\x01h"}
_PLAIN = {"\x01a": "\\", "\x01b": ":", "\x01c": "#", "\x01d": "=", "\x01e": "{", "\x01f": "}", "\x01g": "~", "\x01h": "\n"}
_WEIGHT = re.compile(r"^%(-?[0-9]+(?:\.[0-9]+)?)%")


def _hide(text: str) -> str:
    for escaped, mark in _ESCAPES.items():
        text = text.replace(escaped, mark)
    return text


def _show(text: str) -> str:
    for mark, char in _PLAIN.items():
        text = text.replace(mark, char)
    return text


def _text(raw: str) -> tuple[Text, str]:
    raw = raw.strip()
    fmt = "moodle_auto_format"
    m = re.match(r"^\[(html|moodle|plain|markdown)\]", raw)
    if m:
        fmt = {"html": "html", "moodle": "moodle_auto_format", "plain": "plain_text", "markdown": "markdown"}[m.group(1)]
        raw = raw[m.end():]
    return Text(_show(raw).strip()), fmt


def read(raw: bytes, file: str) -> ReadBank:
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, line, 1), "the GIFT file is not UTF-8",
                                  "save it as UTF-8")) from None
    bank = ReadBank(file)
    path: list[str] = []
    block: list[str] = []
    start = 1
    lines = source.split("\n") + [""]
    idnumber = ""
    for n, line in enumerate(lines, 1):
        if line.strip().startswith("//"):
            m = re.search(r"\[id:((?:\\\]|[^\]])*)\]", line)  # Moodle 4.x writes and reads the idnumber here
            if m:
                idnumber = m.group(1).replace("\\]", "]")
            continue
        if line.strip():
            if not block:
                start = n
            block.append(line.strip())
            continue
        if not block:
            continue
        body = _hide("\n".join(block))
        block = []
        if body.startswith("$CATEGORY:"):
            path = category_path(body[len("$CATEGORY:"):])
            bank.category(path)
            continue
        rq = _question(body, start, file, bank)
        if rq is not None:
            rq.question.idnumber, idnumber = idnumber, ""
            bank.category(path).questions.append(rq)
    return bank


def _syntax(file: str, line: int, message: str) -> ImportFailed:
    return ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, line, 1), f"GIFT syntax error: {message}",
                               "see Moodle's GIFT format help; escape ~ = # { } : with a backslash"))


def _question(body: str, line: int, file: str, bank: ReadBank) -> ReadQuestion | None:
    name = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        if end < 0:
            raise _syntax(file, line, "the question name is not closed with '::'")
        name, body = _show(body[2:end]).strip(), body[end + 2:].strip()
    start, finish = body.find("{"), body.rfind("}")
    if start < 0 or finish < start:
        raise _syntax(file, line, "no answer block in braces { }")
    if body.count("{") != 1 or body.count("}") != 1:
        raise _syntax(file, line, "more than one answer block; escape literal braces as \\{ and \\}")
    text, fmt = _text(body[:start] + ("_____ " + body[finish + 1:] if body[finish + 1:].strip() else ""))
    answers = body[start + 1:finish].strip()
    general = Text()
    if "####" in answers:
        cut = answers.rindex("####")
        general = _text(answers[cut + 4:])[0]
        answers = answers[:cut].strip()
    mq = MoodleQuestion(source=None, qtype="", name=name or re.sub(r"<[^>]*>", "", text.html)[:60], idnumber="",
                        text=text, general_feedback=general, default_mark=1.0, penalty=0.3333333)
    if answers == "":
        mq.qtype = "essay"
    elif answers.startswith("#"):
        mq.qtype = "numerical"
        for part in [p.strip() for p in re.split(r"(?=[=~])", answers[1:]) if p.strip()]:
            if part.startswith("~"):
                mq.answers.append(MoodleAnswer(Text("*"), 0.0, _feedback(part[1:]), "moodle_auto_format", 0.0))
                continue
            m = _WEIGHT.match(part.lstrip("="))
            rest = part.lstrip("=")[m.end():] if m else part.lstrip("=")
            value, _, feedback = rest.partition("#")
            number, _, tol = _show(value).strip().partition(":")
            mq.answers.append(MoodleAnswer(Text(number.strip()), (float(m.group(1)) if m else 100.0) / 100,
                                           _text(feedback)[0], "moodle_auto_format", float(tol or 0)))
    elif "~" in answers:
        mq.qtype = "multichoice"
        mq.single = "=" in answers
        for part in [p.strip() for p in answers.replace("=", "~=").split("~") if p.strip()]:
            if part.startswith("="):
                weight, rest = 100.0, part[1:]
            else:
                m = _WEIGHT.match(part)
                weight, rest = (float(m.group(1)), part[m.end():]) if m else (0.0, part)
            answer, _, feedback = rest.partition("#")
            mq.answers.append(MoodleAnswer(_text(answer)[0], weight / 100, _text(feedback)[0]))
    elif "=" in answers and "->" in answers:
        mq.qtype = "match"
        for part in [p.strip() for p in answers.split("=") if p.strip()]:
            left, arrow, right = part.partition("->")
            if not arrow:
                raise _syntax(file, line, "a matching pair without '->'")
            mq.subquestions.append(Subquestion(_text(left)[0], _show(right).strip()))
    elif answers.split("#", 1)[0].strip() in ("T", "TRUE", "F", "FALSE"):
        mq.qtype = "truefalse"
        bits = answers.split("#", 2) + ["", ""]
        truth = bits[0].strip() in ("T", "TRUE")
        wrong, right = _text(bits[1])[0], _text(bits[2])[0]
        mq.answers = [MoodleAnswer(Text("true"), 1.0 if truth else 0.0, right if truth else wrong, "moodle_auto_format"),
                      MoodleAnswer(Text("false"), 0.0 if truth else 1.0, wrong if truth else right, "moodle_auto_format")]
    elif answers.startswith("="):
        mq.qtype = "shortanswer"
        for part in [p.strip() for p in answers.split("=") if p.strip()]:
            m = _WEIGHT.match(part)
            rest = part[m.end():] if m else part
            answer, _, feedback = rest.partition("#")
            mq.answers.append(MoodleAnswer(Text(_show(answer).strip()), (float(m.group(1)) if m else 100.0) / 100,
                                           _text(feedback)[0], "moodle_auto_format"))
    else:
        bank.unimported.append(Unimported("gift", line, "<question type=\"gift\"><text><![CDATA["
                                          + _show(body).replace("]]>", "]]]]><![CDATA[>") + "]]></text></question>"))
        bank.diagnostics.append(d.diag(d.IMPORT_UNSUPPORTED, SourceLoc(file, line, 1),
                                       "type 'gift' (this answer block) cannot be imported; kept in {unimported}",
                                       "rebuild the question by hand"))
        return None
    return ReadQuestion(mq, line, fmt)


def _feedback(raw: str) -> Text:
    return _text(raw.partition("#")[2])[0] if "#" in raw else Text()
