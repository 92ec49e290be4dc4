"""Target `moodle-xml`: the question bank as a Moodle XML file, written as Moodle's own exporter writes it.

The text layout follows question/format/xml/format.php of Moodle 4.5 line for line (indentation,
CDATA only where htmlspecialchars would change the text, ']]>' split across two CDATA sections,
files as base64 <file> elements right after the text they belong to), so that a diff against a
Moodle export shows only real differences.
"""

from __future__ import annotations

import base64
import html as htmllib
from pathlib import Path

from ...model import Course
from ...units import Units
from .. import BuildOptions, register
from .bank import Bank, Category, MoodleAnswer, MoodleQuestion, Text, bank, bank_inputs, number, percent

FILENAME = "questions.xml"
XML_TYPE = {"match": "matching"}  # qformat_xml::get_qtype: the exporter's name for a few types


@register
class MoodleXmlTarget:
    name = "moodle-xml"
    description = "question bank as Moodle XML (one category per module), for Question bank → Import"

    def units(self, course: Course, options: BuildOptions) -> Units:
        units = Units(course, self.name, options.cache)
        units.add(FILENAME, lambda: render(bank(course)).encode("utf-8"), bank_inputs(course))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)


def render(b: Bank) -> str:
    parts = [_category(b.course_category)]
    n = 0
    for cat in b.categories:
        parts.append(_category(cat))
        for q in cat.questions:
            n += 1  # Moodle's comment carries the question's database id; a running number is the stable equivalent
            parts.append(_question(q, n))
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(parts) + "</quiz>"


def escape(value: str) -> str:
    """qformat_xml::xml_escape: CDATA only when htmlspecialchars(ENT_COMPAT) would change the text."""
    if value and htmllib.escape(value, quote=False).replace('"', "&quot;") != value:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return value


def writetext(value: str, indent: int = 0) -> str:
    return f"{'  ' * indent}<text>{escape(value)}</text>\n"


def _files(text: Text) -> str:
    # Moodle writes the file elements without indentation, one per line (and leaves the name unescaped,
    # which breaks on '&' or '"': the name is escaped here).
    return "".join(f'<file name="{_attr(f.name)}" path="/" encoding="base64">{base64.b64encode(f.content).decode("ascii")}</file>\n'
                   for f in text.files)


def _attr(value: str) -> str:
    return htmllib.escape(value, quote=True).replace("&#x27;", "'")


def _category(cat: Category) -> str:
    return ("<!-- question: 0  -->\n"
            '  <question type="category">\n'
            "    <category>\n"
            f"      {writetext(cat.moodle_path)}"
            "    </category>\n"
            '    <info format="html">\n'
            f"      {writetext(cat.info)}"
            "    </info>\n"
            f"    <idnumber>{_attr(cat.idnumber)}</idnumber>\n"
            "  </question>\n\n")


def _field(tag: str, text: Text, indent: int = 2) -> str:
    pad = "  " * indent
    return f'{pad}<{tag} format="html">\n{writetext(text.html, indent + 1)}{_files(text)}{pad}</{tag}>\n'


def _combined_feedback(q: MoodleQuestion) -> str:
    out = ""
    for tag, text in (("correctfeedback", q.correct_feedback), ("partiallycorrectfeedback", q.partial_feedback),
                      ("incorrectfeedback", q.incorrect_feedback)):
        out += f'    <{tag} format="html">\n      {writetext(text.html)}{_files(text)}    </{tag}>\n'
    return out + "    <shownumcorrect/>\n"


def _answer(a: MoodleAnswer, extra: str = "") -> str:
    return (f'    <answer fraction="{percent(a.fraction)}" format="{a.format}">\n'
            f"{writetext(a.text.html, 3)}{_files(a.text)}"
            '      <feedback format="html">\n'
            f"{writetext(a.feedback.html, 4)}{_files(a.feedback)}"
            "      </feedback>\n"
            f"{extra}"
            "    </answer>\n")


def _question(q: MoodleQuestion, n: int) -> str:
    out = (f"<!-- question: {n}  -->\n"
           f'  <question type="{XML_TYPE.get(q.qtype, q.qtype)}">\n'
           "    <name>\n"
           f"{writetext(q.name, 3)}"
           "    </name>\n"
           f"{_field('questiontext', q.text)}"
           f"{_field('generalfeedback', q.general_feedback)}"
           f"    <defaultgrade>{q.default_mark:.7f}</defaultgrade>\n"
           f"    <penalty>{q.penalty:.7f}</penalty>\n"
           "    <hidden>0</hidden>\n"
           f"    <idnumber>{_attr(q.idnumber)}</idnumber>\n")
    out += BODY[q.qtype](q)
    for hint in q.hints:
        out += f'    <hint format="html">\n      {writetext(hint.html)}{_files(hint)}    </hint>\n'
    if q.tags:  # as question/format/xml writes them
        out += "    <tags>\n" + "".join(f"      <tag>{writetext(tag)}</tag>\n" for tag in q.tags) + "    </tags>\n"
    return out + "  </question>\n\n"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _multichoice(q: MoodleQuestion) -> str:
    return (f"    <single>{_bool(q.single)}</single>\n"
            f"    <shuffleanswers>{_bool(q.shuffle)}</shuffleanswers>\n"
            f"    <answernumbering>{q.answer_numbering}</answernumbering>\n"
            "    <showstandardinstruction>0</showstandardinstruction>\n"
            + _combined_feedback(q) + "".join(_answer(a) for a in q.answers))


def _truefalse(q: MoodleQuestion) -> str:
    return "".join(_answer(a) for a in q.answers)


def _shortanswer(q: MoodleQuestion) -> str:
    return f"    <usecase>{int(q.use_case)}</usecase>\n" + "".join(_answer(a) for a in q.answers)


def _numerical(q: MoodleQuestion) -> str:
    out = "".join(_answer(a, f"      <tolerance>{number(a.tolerance or 0.0)}</tolerance>\n") for a in q.answers)
    return (out + "    <unitgradingtype>0</unitgradingtype>\n    <unitpenalty>0.1000000</unitpenalty>\n"
            "    <showunits>3</showunits>\n    <unitsleft>0</unitsleft>\n")


def _match(q: MoodleQuestion) -> str:
    out = f"    <shuffleanswers>{_bool(q.shuffle)}</shuffleanswers>\n" + _combined_feedback(q)
    for sub in q.subquestions:
        out += ('    <subquestion format="html">\n'
                f"{writetext(sub.text.html, 3)}{_files(sub.text)}"
                "      <answer>\n"
                f"{writetext(sub.answer, 4)}"
                "      </answer>\n"
                "    </subquestion>\n")
    return out


def _ordering(q: MoodleQuestion) -> str:
    # qtype_ordering::export_to_xml: shownumcorrect as a value, the fraction is the item's position.
    out = ("    <layouttype>VERTICAL</layouttype>\n"
           "    <selecttype>ALL</selecttype>\n"
           f"    <selectcount>{len(q.answers)}</selectcount>\n"
           "    <gradingtype>ABSOLUTE_POSITION</gradingtype>\n"
           "    <showgrading>SHOW</showgrading>\n"
           "    <numberingstyle>none</numberingstyle>\n")
    out += _combined_feedback(q).replace("    <shownumcorrect/>\n", "") + "    <shownumcorrect>1</shownumcorrect>\n"
    for a in q.answers:
        out += f'    <answer fraction="{a.fraction:.7f}" format="html">\n{writetext(a.text.html, 3)}{_files(a.text)}'
        if a.feedback.html.strip():
            out += f'      <feedback format="html">\n{writetext(a.feedback.html, 4)}{_files(a.feedback)}      </feedback>\n'
        out += "    </answer>\n"
    return out


def _essay(q: MoodleQuestion) -> str:
    return ("    <responseformat>editor</responseformat>\n"
            "    <responserequired>1</responserequired>\n"
            "    <responsefieldlines>10</responsefieldlines>\n"
            f"    <minwordlimit>{q.min_words if q.min_words else ''}</minwordlimit>\n"
            f"    <maxwordlimit>{q.max_words if q.max_words else ''}</maxwordlimit>\n"
            "    <attachments>0</attachments>\n"
            "    <attachmentsrequired>0</attachmentsrequired>\n"
            "    <maxbytes>0</maxbytes>\n"
            "    <filetypeslist></filetypeslist>\n"
            '    <graderinfo format="html">\n      <text></text>\n    </graderinfo>\n'
            '    <responsetemplate format="html">\n      <text></text>\n    </responsetemplate>\n')


BODY = {"multichoice": _multichoice, "truefalse": _truefalse, "shortanswer": _shortanswer, "numerical": _numerical,
        "match": _match, "ordering": _ordering, "essay": _essay}
