"""Reader of a backup's questions.xml (Moodle 4.5 backup format) into the neutral Moodle form."""

from __future__ import annotations

from lxml import etree

from .. import diagnostics as d
from ..diagnostics import SourceLoc
from ..targets.moodle.bank import File, MoodleAnswer, MoodleQuestion, Subquestion, Text
from .moodle_xml import WHY_NOT
from .read_form import ReadBank, ReadQuestion, Unimported
from .safe_xml import parse

NULL = "$@NULL@$"
SUPPORTED = {"multichoice", "truefalse", "shortanswer", "numerical", "match", "ordering", "essay"}
FORMATS = {"0": "moodle_auto_format", "1": "html", "2": "plain_text", "4": "markdown"}


def _t(node, tag: str) -> str:
    value = node.findtext(tag) if node is not None else None
    return "" if value is None or value == NULL else value


def read(raw: bytes, file: str, files: dict[tuple[str, str], list[File]]) -> ReadBank:
    """files: (component, itemid) → the files of that item, from files.xml."""
    root = parse(raw, file)
    bank = ReadBank(file)
    cats = {c.get("id"): c for c in root.findall("question_category")}

    def path(cat) -> list[str]:
        names = []
        while cat is not None:
            if _t(cat, "name") != "top":
                names.append(_t(cat, "name"))
            cat = cats.get(_t(cat, "parent"))
        return list(reversed(names))

    for cat in cats.values():
        category = bank.category(path(cat))
        category.info = _t(cat, "info")
        for entry in cat.findall("question_bank_entries/question_bank_entry"):
            versions = entry.findall("question_version/question_versions")
            if not versions:
                continue
            latest = max(versions, key=lambda v: int(_t(v, "version") or 0))
            for q in latest.findall("questions/question"):
                qtype = _t(q, "qtype")
                line = q.sourceline or 1
                if qtype not in SUPPORTED:
                    why = WHY_NOT.get(qtype, "it is not a core question type the quiz format knows")
                    bank.unimported.append(Unimported(qtype, line, etree.tostring(q, encoding="unicode")))
                    bank.diagnostics.append(d.diag(d.IMPORT_UNSUPPORTED, SourceLoc(file, line, 1),
                                                   f"type '{qtype}' cannot be imported ({why}); kept in {{unimported}}",
                                                   "rebuild the question by hand, or leave it in Moodle"))
                    continue
                category.questions.append(_question(q, qtype, _t(entry, "idnumber"), line, files))
    return bank


def _question(q, qtype: str, idnumber: str, line: int, files) -> ReadQuestion:
    plugin = q.find(f"plugin_qtype_{qtype}_question")
    ids = {("question", q.get("id"))} | {("question", a.get("id")) for a in q.iter("answer") if a.get("id")}
    ids |= {("question", h.get("id")) for h in q.findall("question_hints/question_hint")}
    own = [f for key in ids for f in files.get(key, [])] + [f for (comp, item), fs in files.items()
                                                           if comp.startswith("qtype_") and item == q.get("id") for f in fs]
    text = lambda value: Text(value.strip(), own)  # noqa: E731 - every text finds its images among the question's files
    options = plugin.find(qtype) if plugin is not None else None
    if qtype == "match" and plugin is not None:
        options = plugin.find("matchoptions")
    if qtype == "ordering" and plugin is not None:
        options = plugin.find("ordering")
    if qtype == "essay" and plugin is not None:
        options = plugin.find("essay")
    mq = MoodleQuestion(
        source=None, qtype=qtype, name=_t(q, "name"), idnumber=idnumber, text=text(_t(q, "questiontext")),
        general_feedback=text(_t(q, "generalfeedback")), default_mark=float(_t(q, "defaultmark") or 1),
        penalty=float(_t(q, "penalty") or 0), hints=[text(_t(h, "hint")) for h in q.findall("question_hints/question_hint")
                                                      if _t(h, "hint").strip()],
        single=_t(options, "single") != "0", shuffle=_t(options, "shuffleanswers") != "0",
        correct_feedback=text(_t(options, "correctfeedback")), partial_feedback=text(_t(options, "partiallycorrectfeedback")),
        incorrect_feedback=text(_t(options, "incorrectfeedback")), use_case=_t(options, "usecase") == "1",
        min_words=int(_t(options, "minwordlimit")) if _t(options, "minwordlimit").strip() else None,
        max_words=int(_t(options, "maxwordlimit")) if _t(options, "maxwordlimit").strip() else None,
    )
    tolerance = {r.findtext("answer"): float(_t(r, "tolerance") or 0) for r in q.iter("numerical_record")}
    for a in plugin.findall("answers/answer") if plugin is not None else []:
        fmt = FORMATS.get(_t(a, "answerformat"), "html")
        mq.answers.append(MoodleAnswer(text(_t(a, "answertext")), float(_t(a, "fraction") or 0), text(_t(a, "feedback")),
                                       "moodle_auto_format" if fmt != "html" else "html", tolerance.get(a.get("id"))))
    for m in plugin.findall("matches/match") if plugin is not None else []:
        mq.subquestions.append(Subquestion(text(_t(m, "questiontext")), _t(m, "answertext").strip()))
    tags = [_t(t, "rawname") or _t(t, "name") for t in q.findall("tags/tag")]
    return ReadQuestion(mq, line, FORMATS.get(_t(q, "questiontextformat"), "html"), [t for t in tags if t])
