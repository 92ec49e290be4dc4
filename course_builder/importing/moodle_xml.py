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


def _number(node, tag: str, default: float) -> float:
    value = node.findtext(tag)
    if value is None or not value.strip():
        return default
    return float(value.strip().replace(",", "."))


def _flag(node, tag: str, default: bool) -> bool:
    value = node.findtext(tag)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes")


def _question(node, qtype: str, line: int, file: str, bank: ReadBank) -> ReadQuestion:
    qtype = "match" if qtype == "matching" else qtype
    text_node = node.find("questiontext")
    mq = MoodleQuestion(
        source=None, qtype=qtype, name=_text(node.find("name")).strip(), idnumber=(node.findtext("idnumber") or "").strip(),
        text=_rich(text_node, file), general_feedback=_rich(node.find("generalfeedback"), file),
        default_mark=_number(node, "defaultgrade", 1.0), penalty=_number(node, "penalty", 0.3333333),
        hints=[_rich(h, file) for h in node.findall("hint") if _text(h).strip()],
        single=_flag(node, "single", True), shuffle=_flag(node, "shuffleanswers", True),
        answer_numbering=node.findtext("answernumbering") or "abc",
        correct_feedback=_rich(node.find("correctfeedback"), file),
        partial_feedback=_rich(node.find("partiallycorrectfeedback"), file),
        incorrect_feedback=_rich(node.find("incorrectfeedback"), file),
        use_case=_flag(node, "usecase", False),
        min_words=int(node.findtext("minwordlimit")) if (node.findtext("minwordlimit") or "").strip() else None,
        max_words=int(node.findtext("maxwordlimit")) if (node.findtext("maxwordlimit") or "").strip() else None,
    )
    for a in node.findall("answer"):
        fraction = float(a.get("fraction") or 0)
        tol = a.findtext("tolerance")
        mq.answers.append(MoodleAnswer(_rich(a, file), fraction if qtype == "ordering" else fraction / 100.0,
                                       _rich(a.find("feedback"), file), a.get("format") or "html",
                                       float(tol) if tol is not None and tol.strip() else None))
    for sub in node.findall("subquestion"):
        mq.subquestions.append(Subquestion(_rich(sub, file), _text(sub.find("answer")).strip()))
    tags = [_text(t).strip() for t in node.findall("tags/tag") if _text(t).strip()]
    fmt = text_node.get("format", "html") if text_node is not None else "html"
    if qtype == "numerical" and node.find("units/unit") is not None:
        bank.diagnostics.append(d.diag(d.IMPORT_NOT_CARRIED, SourceLoc(file, line, 1),
                                       f"numerical question '{mq.name}': units are not carried over",
                                       "write the unit into the question text"))
    return ReadQuestion(mq, line, fmt, tags)
