"""Reader of Moodle XML question files (qformat_xml of Moodle 4.5) into the neutral Moodle form."""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from .. import diagnostics as d
from ..diagnostics import SourceLoc
from ..targets.moodle.bank import File, MoodleAnswer, MoodleQuestion, Subquestion, Text
from .errors import ImportFailed
from .read_form import ReadBank, ReadQuestion, Unimported, category_path
from .safe_xml import parse

SUPPORTED = {"multichoice", "truefalse", "shortanswer", "numerical", "matching", "match", "ordering", "essay"}
WHY_NOT = {
    "cloze": "cloze (multianswer) questions have no counterpart in the quiz format",
    "multianswer": "cloze (multianswer) questions have no counterpart in the quiz format",
    "calculated": "calculated questions need datasets the quiz format cannot hold",
    "calculatedsimple": "calculated questions need datasets the quiz format cannot hold",
    "calculatedmulti": "calculated questions need datasets the quiz format cannot hold",
    "ddwtos": "drag-and-drop into text has no counterpart in the quiz format",
    "gapselect": "select missing words has no counterpart in the quiz format",
    "description": "a description is no question; put the text into a lesson",
    "randomsamatch": "random short-answer matching draws from other questions at attempt time",
    "random": "a random question is a draw, written as 'draw:' in the quiz front matter",
}


def read(raw: bytes, file: str) -> ReadBank:
    root = parse(raw, file)
    if root.tag != "quiz":
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, root.sourceline or 1, 1),
                                  f"the root element is <{root.tag}>, not <quiz>: not a Moodle XML question file",
                                  "export with Question bank → Export → Moodle XML format"))
    bank = ReadBank(file)
    path: list[str] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        line = node.sourceline or 1
        if node.tag != "question":
            bank.diagnostics.append(d.diag(d.IMPORT_NOT_CARRIED, SourceLoc(file, line, 1),
                                           f"element <{node.tag}> is no question; skipped"))
            continue
        qtype = node.get("type") or ""
        if qtype == "category":
            path = category_path(_text(node.find("category")))
            cat = bank.category(path)
            cat.info = _text(node.find("info"))
            continue
        if qtype not in SUPPORTED:
            _unimported(bank, node, qtype, line)
            continue
        try:
            bank.category(path).questions.append(_question(node, qtype, line, file, bank))
        except ValueError as exc:
            bank.diagnostics.append(d.diag(d.IMPORT_UNREADABLE, SourceLoc(file, line, 1),
                                           f"{qtype} question cannot be read: {exc}",
                                           "fix the element in the file or in Moodle and export again"))
    return bank


def _unimported(bank: ReadBank, node, qtype: str, line: int) -> None:
    why = WHY_NOT.get(qtype, "it is not a core question type the quiz format knows")
    bank.unimported.append(Unimported(qtype, line, etree.tostring(node, encoding="unicode", with_tail=False)))
    bank.diagnostics.append(d.diag(d.IMPORT_UNSUPPORTED, SourceLoc(bank.file, line, 1),
                                   f"type '{qtype}' cannot be imported ({why}); kept in {{unimported}}",
                                   "rebuild the question by hand, or leave it in Moodle"))


def _text(node) -> str:
    if node is None:
        return ""
    t = node.find("text")
    return (t.text or "") if t is not None else (node.text or "")


def _files(node, file: str) -> list[File]:
    out = []
    for f in node.findall("file") if node is not None else []:
        try:
            out.append(File(f.get("name") or "", base64.b64decode(f.text or "", validate=False)))
        except (binascii.Error, ValueError):
            raise ValueError(f"the file '{f.get('name')}' (line {f.sourceline}) is not valid base64") from None
    return out


def _rich(node, file: str) -> Text:
    return Text(_text(node).strip(), _files(node, file)) if node is not None else Text()


def _number(value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    return float(value.strip().replace(",", "."))


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip() else None


def _question(node, qtype: str, line: int, file: str, bank: ReadBank) -> ReadQuestion:
    qtype = "match" if qtype == "matching" else qtype
    # One pass over the children instead of a search per field: a large bank has tens of thousands.
    one: dict = {}
    many: dict = {"answer": [], "subquestion": [], "hint": []}
    for child in node:
        tag = child.tag
        if tag in many:
            many[tag].append(child)
        elif isinstance(tag, str):
            one.setdefault(tag, child)
    value = lambda tag: one[tag].text if tag in one else None  # noqa: E731
    text_node = one.get("questiontext")
    mq = MoodleQuestion(
        source=None, qtype=qtype, name=_text(one.get("name")).strip(), idnumber=(value("idnumber") or "").strip(),
        text=_rich(text_node, file), general_feedback=_rich(one.get("generalfeedback"), file),
        default_mark=_number(value("defaultgrade"), 1.0), penalty=_number(value("penalty"), 0.3333333),
        hints=[_rich(h, file) for h in many["hint"] if _text(h).strip()],
        single=_flag(value("single"), True), shuffle=_flag(value("shuffleanswers"), True),
        answer_numbering=value("answernumbering") or "abc",
        correct_feedback=_rich(one.get("correctfeedback"), file),
        partial_feedback=_rich(one.get("partiallycorrectfeedback"), file),
        incorrect_feedback=_rich(one.get("incorrectfeedback"), file),
        use_case=_flag(value("usecase"), False), min_words=_int(value("minwordlimit")), max_words=_int(value("maxwordlimit")),
    )
    for a in many["answer"]:
        fraction = float(a.get("fraction") or 0)
        tol = a.findtext("tolerance")
        mq.answers.append(MoodleAnswer(_rich(a, file), fraction if qtype == "ordering" else fraction / 100.0,
                                       _rich(a.find("feedback"), file), a.get("format") or "html",
                                       float(tol) if tol is not None and tol.strip() else None))
    for sub in many["subquestion"]:
        mq.subquestions.append(Subquestion(_rich(sub, file), _text(sub.find("answer")).strip()))
    tags = [_text(t).strip() for t in one["tags"].iter("tag") if _text(t).strip()] if "tags" in one else []
    fmt = text_node.get("format", "html") if text_node is not None else "html"
    if qtype == "numerical" and "units" in one and one["units"].find("unit") is not None:
        bank.diagnostics.append(d.diag(d.IMPORT_NOT_CARRIED, SourceLoc(file, line, 1),
                                       f"numerical question '{mq.name}': units are not carried over",
                                       "write the unit into the question text"))
    return ReadQuestion(mq, line, fmt, tags)
