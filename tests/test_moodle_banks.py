"""The question banks for Moodle (targets moodle-xml and gift) read back by strict readers of both formats."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from lxml import etree

from course_builder import check as check_course
from course_builder.model import TRUE_WORDS
from course_builder.quizparse import moodle_fraction
from course_builder.targets.moodle import gift as gift_target
from course_builder.targets.moodle import moodle_xml
from course_builder.targets.moodle.bank import bank, percent, plain

from conftest import MINI, run_course, shared
from moodle_formats import ALLOWED_PERCENTS, check_text_escaping, read_gift, read_moodle_xml

SPECIAL = "{ } ~ = # : \\ ]]> < & ß"
SPECIAL_QUESTIONS = r"""

## single: Zeichen ~ = # : \ ]]> < & ß {id=sonder-single objectives=ziel}
Welche Zeichen { } ~ = # : \ ]]> < & stören? Ä Ö Ü ä ö ü ß

![Karte](../../modules/01-grundlagen/media/karte.svg)

- (x) Klammern { und } sowie ~ = # : \ & < ]]>
  Richtig: {a} ~b =c #d :e \f ]]> < & ß
- ( ) Gar keine – größer äöü
  Falsch: Umlaute ÄÖÜ und ß sind auch dabei.

feedback: Allgemein: {x} ~ = # : \ ]]> < & ß
hint: Tipp { } ~ = # : \ ]]> < & ß

## short: Kurz ~ = # : ]]> & ß {id=sonder-short objectives=anwenden}
Geben Sie a=b#c ein { } ~ : \ ]]> < & ß.

- = a=b#c{}~:\]]>&<ß
  Genau: {} ~ = # : \ ß
- = äöü ÄÖÜ ß {weight=50}
  Halb: ~ = #

incorrect: Nein ~ = # {} : \ ß

## matching: Paare ~ = # ß {id=sonder-match objectives=ziel}
Ordnen Sie zu: { } ~ = # : \ ]]> < & ß

- a = b ~ ß => c # d { }
  Paar: ~ = # : \
- {x} : y => ~z \ ß & <
  Zweites Paar.
- => Ablenkung = # ~ ß
  Keine Zuordnung.

## numerical: Zahl ~ = # ß {id=sonder-num objectives=anwenden}
Wie viel ist 5 / 2? { } ~ = # : \ ß

- = 2.5 ± 0.25
  Richtig: {2,5} ~ = # : \ ß
"""


@pytest.fixture
def special(mini: Path) -> Path:
    """The mini course with questions whose texts hold every character GIFT and XML must escape."""
    quiz = mini / "assessments" / "01-grundlagen" / "quiz.md"
    quiz.write_text(quiz.read_text(encoding="utf-8") + SPECIAL_QUESTIONS, encoding="utf-8")
    return mini


def _course(root: Path):
    course, diagnostics = check_course(root)
    assert not [d for d in diagnostics if d.is_error], diagnostics
    return course


def _build(root: Path, out: Path, *targets: str) -> Path:
    args = ["build", str(root), "-o", str(out)]
    for t in targets:
        args += ["-t", t]
    result = run_course(*args)
    assert result.code == 0, result.output
    return out


def _expected_answers(q) -> list[tuple[str, float, str]]:
    """(text, percent, feedback HTML) per answer, derived from the model as Moodle must see it."""
    if q.type == "truefalse":
        truth = q.truth
        by = {a.text.markdown.strip().lower() in TRUE_WORDS: a for a in q.answers}
        return [("true", 100.0 if truth else 0.0, by[True].feedback.html.strip()),
                ("false", 0.0 if truth else 100.0, by[False].feedback.html.strip())]
    out = []
    for a in q.answers:
        if q.type == "short":
            text = a.text.markdown.strip()
        elif q.type == "numerical":
            text = f"{a.value:g}"
        else:
            text = a.text.html
        out.append((text, moodle_fraction(a.weight), a.feedback.html.strip()))
    if q.type in ("short", "numerical") and q.incorrect_feedback:
        out.append(("*", 0.0, q.incorrect_feedback.html.strip()))
    return out


def test_moodle_xml_round_trip_keeps_every_question_answer_fraction_and_feedback(special: Path, tmp_path: Path):
    course = _course(special)
    out = _build(special, tmp_path / "out", "moodle-xml")
    read = {q.idnumber: q for q in read_moodle_xml((out / "moodle-xml" / "questions.xml").read_bytes())}
    model = [q for quiz in course.quizzes for q in quiz.questions]
    assert set(read) == {q.id for q in model}
    for q in model:
        got = read[q.id]
        assert got.qtype == {"single": "multichoice", "multiple": "multichoice", "short": "shortanswer",
                             "matching": "match"}.get(q.type, q.type)
        assert got.name == q.name and got.default_grade == q.points
        assert got.category.startswith(f"$course$/top/{course.title}/")
        if q.type in ("single", "multiple", "truefalse", "short", "numerical"):
            answers = [(a.text if q.type != "numerical" else f"{float(a.text):g}", a.fraction, a.feedback)
                       for a in got.answers]
            expected = _expected_answers(q)
            if q.type in ("single", "multiple"):  # image-free answers: the HTML is the model's
                assert answers == [(t, f, fb) for t, f, fb in expected]
            else:
                assert [(t, f) for t, f, _ in answers] == [(t, f) for t, f, _ in expected]
                assert all(fb_got == fb or fb == "" for (_, _, fb_got), (_, _, fb) in zip(answers, expected))
        if q.type == "numerical":
            assert [a.tolerance for a in got.answers if a.text != "*"] == [a.tolerance for a in q.answers]
        if q.type == "matching":
            assert [left for left, _ in got.subquestions] == [a.text.html for a in q.answers]
            for a in q.answers:
                if a.feedback:  # Moodle's match type has no feedback per pair: it joins the general feedback
                    assert a.feedback.html.strip() in got.general_feedback
        if q.type == "ordering":
            assert [a.text for a in got.answers] == [a.text.html for a in sorted(q.answers, key=lambda a: a.value)]
            assert [a.fraction for a in got.answers] == list(range(1, len(q.answers) + 1))
            for a in q.answers:
                if a.feedback:  # qtype_ordering keeps no feedback per item: it joins the general feedback
                    assert a.feedback.html.strip() in got.general_feedback
        assert [h for h in got.hints] == [h.html.strip() for h in q.hints]
        if q.type not in ("matching", "ordering"):
            assert got.general_feedback == q.feedback.html.strip()
        else:
            assert got.general_feedback.startswith(q.feedback.html.strip())


def test_moodle_xml_special_characters_survive(special: Path, tmp_path: Path):
    out = _build(special, tmp_path / "out", "moodle-xml")
    raw = (out / "moodle-xml" / "questions.xml").read_bytes()
    assert check_text_escaping(raw.decode()) > 50
    assert b"]]]]><![CDATA[>" in raw  # the name holds ']]>' and Moodle splits the CDATA section there
    read = {q.idnumber: q for q in read_moodle_xml(raw)}
    single = read["sonder-single"]
    assert single.name == "Zeichen ~ = # : \\ ]]> < & ß"
    assert "{ } ~ = # : \\ ]]&gt; &lt; &amp; stören? Ä Ö Ü ä ö ü ß" in single.text
    assert single.answers[0].feedback == "<p>Richtig: {a} ~b =c #d :e \\f ]]&gt; &lt; &amp; ß</p>"
    short = read["sonder-short"]
    assert short.answers[0].text == "a=b#c{}~:\\]]>&<ß"
    assert [a.fraction for a in short.answers] == [100.0, 50.0, 0.0]
    assert short.answers[2].feedback == "<p>Nein ~ = # {} : \\ ß</p>"
    match = read["sonder-match"]
    assert match.subquestions[-1] == ("", "Ablenkung = # ~ ß")
    assert match.subquestions[1][1] == "~z \\ ß & <"


def test_moodle_xml_embeds_images_as_base64_files_behind_pluginfile(special: Path, tmp_path: Path):
    out = _build(special, tmp_path / "out", "moodle-xml")
    read = {q.idnumber: q for q in read_moodle_xml((out / "moodle-xml" / "questions.xml").read_bytes())}
    q = read["sonder-single"]
    assert '<img src="@@PLUGINFILE@@/karte.svg"' in q.text
    assert q.files == {"karte.svg": (special / "modules/01-grundlagen/media/karte.svg").read_bytes()}


def test_moodle_xml_categories_follow_course_then_module(mini: Path, tmp_path: Path):
    course = _course(mini)
    out = _build(mini, tmp_path / "out", "moodle-xml")
    root = etree.parse(str(out / "moodle-xml" / "questions.xml")).getroot()
    paths = [c.findtext("category/text") for c in root.findall("question[@type='category']")]
    assert paths == [f"$course$/top/{course.title}", f"$course$/top/{course.title}/{course.modules[0].title}"]
    read = read_moodle_xml((out / "moodle-xml" / "questions.xml").read_bytes())
    assert {q.category for q in read} == {paths[1]}
    assert {q.qtype for q in read} == {"multichoice", "truefalse", "shortanswer", "numerical", "match", "ordering",
                                       "essay"}


def test_moodle_xml_matches_the_layout_of_moodles_own_export():
    """The exporter's layout, checked on the reference export Moodle 4.5.6 wrote."""
    raw = shared("reference", "moodle", "netzwerkkoordination-referenz-questions.xml").read_text(encoding="utf-8")
    assert check_text_escaping(raw) > 0
    assert moodle_xml.escape("<p>x</p>") == "<![CDATA[<p>x</p>]]>"
    assert moodle_xml.escape("Richtig.") == "Richtig."
    assert moodle_xml.escape('a "b"') == '<![CDATA[a "b"]]>'
    assert moodle_xml.escape("a]]>b<") == "<![CDATA[a]]]]><![CDATA[>b<]]>"
    # Per question type, the reference's elements and ours: the same children in the same order.
    ref = etree.fromstring(raw.encode())
    ours = etree.fromstring(moodle_xml.render(_tiny_bank()).encode())
    compared = 0
    for ref_q in ref.findall("question"):
        kind = ref_q.get("type")
        our_q = ours.find(f"question[@type='{kind}']")
        if kind == "category" or our_q is None:
            continue
        assert _shape(our_q) == _shape(ref_q), kind
        compared += 1
    assert compared == len(ref.findall("question")) - 1  # every question of the reference but its category


def _shape(question) -> list[str]:
    """The element names of a question, repeats (answers, hints) collapsed, hints left out."""
    tags = [c.tag for c in question if isinstance(c.tag, str) and c.tag != "hint"]
    return [t for i, t in enumerate(tags) if i == 0 or tags[i - 1] != t]


def _tiny_bank():
    return bank(_course(MINI))


def test_fractions_are_moodle_grades_and_written_like_moodle():
    assert percent(0.3333333) == "33.33333"
    assert percent(1.0) == "100" and percent(-1.0) == "-100" and percent(0.0) == "0"
    assert percent(0.1428571) == "14.28571"
    for value in ALLOWED_PERCENTS:
        assert float(percent(round(value / 100, 7))) in ALLOWED_PERCENTS


def test_gift_round_trip_keeps_what_gift_can_hold(special: Path, tmp_path: Path):
    course = _course(special)
    out = _build(special, tmp_path / "out", "gift")
    raw = (out / "gift" / "questions.gift.txt").read_bytes()
    read = {q.idnumber: q for q in read_gift(raw)}
    model = [q for quiz in course.quizzes for q in quiz.questions]
    assert set(read) == {q.id for q in model if q.type != "ordering"}
    for q in model:
        if q.type == "ordering":
            continue
        got = read[q.id]
        assert got.name == q.name
        assert got.text == q.text.html.strip().replace('src="../../modules/01-grundlagen/media/karte.svg"',
                                                       'src="@@PLUGINFILE@@/karte.svg"')
        if q.type in ("single", "multiple", "truefalse", "short"):
            expected = _expected_answers(q)
            assert [(a.text, a.fraction, a.feedback) for a in got.answers] == expected
        if q.type == "numerical":
            assert [(float(a.text), a.tolerance) for a in got.answers if a.text != "*"] == \
                   [(a.value, a.tolerance) for a in q.answers]
        if q.type == "matching":
            assert [left for left, _ in got.subquestions] == [a.text.html for a in q.answers]
            assert [right for _, right in got.subquestions] == [plain(a.match.html) for a in q.answers]
        if q.type != "matching":
            assert got.general_feedback == q.feedback.html.strip()


def test_gift_escapes_control_characters_and_uses_decimal_points(special: Path, tmp_path: Path):
    out = _build(special, tmp_path / "out", "gift")
    text = (out / "gift" / "questions.gift.txt").read_text(encoding="utf-8")
    assert "::Zeichen ~ = # : \\ ]]> < & ß::" not in text
    assert "::Zeichen \\~ \\= \\# \\: \\\\ ]]> < & ß::" in text
    assert "=%100%2.5:0.25#" in text
    for line in text.splitlines():
        if line.startswith("$CATEGORY:"):
            assert text.split(line + "\n", 1)[1].startswith("\n")
    assert gift_target.escape("a\\b{c}~d=e#f:g\nh") == "a\\\\b\\{c\\}\\~d\\=e\\#f\\:g\\nh"


def test_gift_names_what_it_cannot_express(mini: Path, caplog: pytest.LogCaptureFixture):
    course = _course(mini)
    with caplog.at_level(logging.WARNING, logger="course_builder.targets"):
        text = gift_target.render(bank(course))
    ordering = next(q for quiz in course.quizzes for q in quiz.questions if q.type == "ordering")
    assert any(ordering.id in r.getMessage() and "ordering" in r.getMessage() for r in caplog.records)
    assert f"// [id:{ordering.id}]\n// not in GIFT: the ordering question type" in text
    assert f"::{ordering.name}::" not in text


def test_gift_warnings_reach_stderr_of_course_build(mini: Path, tmp_path: Path):
    result = run_course("build", str(mini), "-t", "gift", "-o", str(tmp_path / "out"))
    assert result.code == 0
    assert "warning: gift: " in result.stderr and "ordering" in result.stderr


def test_banks_are_byte_identical_across_builds(special: Path, tmp_path: Path):
    a = _build(special, tmp_path / "a", "moodle-xml", "gift")
    b = _build(special, tmp_path / "b", "moodle-xml", "gift")
    for rel in ("moodle-xml/questions.xml", "gift/questions.gift.txt"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()


@pytest.mark.parametrize("value", ["", "plain", "<b>", "x]]>y", "ä ß &", '"'])
def test_xml_escape_decodes_to_the_original(value: str):
    doc = f"<t>{moodle_xml.escape(value)}</t>".encode()
    assert (etree.fromstring(doc).text or "") == value


def test_item_pools_keep_every_question_in_a_category_per_pool(mini: Path, tmp_path: Path):
    quiz_md = mini / "assessments" / "01-grundlagen" / "quiz.md"
    quiz_md.write_text(quiz_md.read_text(encoding="utf-8").replace(
        "shuffle: true\n", "shuffle: true\ndraw: [1 from ziel, 2 from anwenden]\n", 1), encoding="utf-8")
    course = _course(mini)
    out = _build(mini, tmp_path / "out", "moodle-xml", "gift")
    module = f"$course$/top/{course.title}/{course.modules[0].title}"
    read = read_moodle_xml((out / "moodle-xml" / "questions.xml").read_bytes())
    by_category: dict[str, set] = {}
    for q in read:
        by_category.setdefault(q.category, set()).add(q.idnumber)
    quiz = course.quiz_for(course.modules[0].id)
    assert by_category == {f"{module}/ziel": {q.id for q in quiz.questions if "ziel" in q.objectives},
                           f"{module}/anwenden": {q.id for q in quiz.questions if "ziel" not in q.objectives}}
    gift = (out / "gift" / "questions.gift.txt").read_text(encoding="utf-8")
    assert f"$CATEGORY: {module}/ziel" in gift and f"$CATEGORY: {module}/anwenden" in gift
