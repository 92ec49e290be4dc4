"""A corpus of broken inputs: each yields its diagnostic code at the right line and column, never a traceback.

Every case starts from the small valid course in tests/fixtures/mini and changes one thing.
`expect` lists (file, line, column, code); positions are 1-based, as editors show them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import run_course

QUIZ = "assessments/01-grundlagen/quiz.md"
LESSON = "modules/01-grundlagen/01-einstieg.md"
MODULE = "modules/01-grundlagen/module.yaml"
FM = "---\nkind: quiz\ntitle: Q\n---\n"  # quiz front matter: the body starts on line 5


def quiz(body: str) -> dict:
    return {QUIZ: FM + body}


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"case setup: {old!r} not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


@dataclass
class Case:
    name: str
    expect: list[tuple[str, int, int, str]]
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None


CASES = [
    # --- files that are no good text
    Case("empty course.yaml", [("course.yaml", 1, 1, "IO006")], {"course.yaml": ""}),
    Case("empty lesson", [(LESSON, 1, 1, "IO006")], {LESSON: "\n\n"}),
    Case("binary garbage", [(LESSON, 1, 1, "IO003")], {LESSON: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01"}),
    Case("latin-1 lesson", [(LESSON, 5, 25, "IO002")],
         {LESSON: "---\ntitle: Einstieg\n---\n\nDie Akteur:innen sind gr\xfcn.\n".encode("latin-1")}),
    Case("very large file", [(LESSON, 1, 1, "IO004")],
         setup=lambda root: (root / LESSON).write_text("---\ntitle: Groß\n---\n" + "Wort " * 600_000, encoding="utf-8")),
    Case("symlink loop", [("modules/01-grundlagen/03-schleife.md", 1, 1, "IO005")],
         setup=lambda root: (os.symlink("03-schleife.md", root / "modules/01-grundlagen/03-schleife.md"))),
    Case("folder symlink loop", [("assessments/01-grundlagen/kreis", 1, 1, "IO005")],
         setup=lambda root: os.symlink("..", root / "assessments/01-grundlagen/kreis")),
    Case("symlink out of the course", [("modules/01-grundlagen/04-fremd.md", 1, 1, "IO005")],
         setup=lambda root: os.symlink("/etc/hostname", root / "modules/01-grundlagen/04-fremd.md")),
    Case("module folder without module.yaml", [("modules/02-leer/module.yaml", 1, 1, "IO007")],
         setup=lambda root: (root / "modules/02-leer").mkdir()),
    # --- YAML
    Case("bad YAML indentation", [("course.yaml", 4, 6, "YAML001")],
         setup=replace("course.yaml", "short_name: MINI\n", "short_name: MINI\n  bad: indentation\n")),
    Case("unclosed quote", [("course.yaml", 2, 8, "YAML001")],
         setup=replace("course.yaml", "title: Mini-Kurs für Tests", 'title: "Mini-Kurs für Tests')),
    Case("colon in plain value", [(MODULE, 1, 18, "YAML001")],
         setup=replace(MODULE, "title: Grundlagen", "title: Grundlagen: Teil 1")),
    Case("tab indentation", [(MODULE, 5, 1, "YAML001")],
         setup=replace(MODULE, "  - id: ziel\n", "\t- id: ziel\n")),
    Case("duplicate key", [("course.yaml", 3, 1, "YAML002")],
         setup=replace("course.yaml", "short_name: MINI\n", "title: Noch ein Titel\nshort_name: MINI\n")),
    Case("course.yaml is a list", [("course.yaml", 1, 1, "YAML003")], {"course.yaml": "- a\n- b\n"}),
    Case("recursive alias", [("glossary.yaml", 1, 1, "YAML004")], {"glossary.yaml": "&a [*a]\n"}),
    # --- schema
    Case("unknown key with suggestion", [("course.yaml", 4, 1, "SCH001")],
         setup=replace("course.yaml", "language: de", "langauge: de")),
    # Found by the property test: a key with brackets was taken for one of pydantic's union tags.
    Case("unknown key with brackets in front matter", [("assessments/01-grundlagen/reflexion.md", 5, 1, "SCH001")],
         setup=replace("assessments/01-grundlagen/reflexion.md", "questions:\n", "questio- [ ] ns:\n")),
    Case("unknown nested key", [("course.yaml", 24, 7, "SCH001")],
         setup=replace("course.yaml", "      place: Hamburg", "      plase: Hamburg")),
    Case("wrong type: text for a number", [("course.yaml", 7, 8, "SCH002")],
         setup=replace("course.yaml", "  run: 1", "  run: eins")),
    Case("wrong type: number list", [(MODULE, 3, 12, "SCH002")], setup=replace(MODULE, "pass_mark: 50", "pass_mark: [50]")),
    Case("bad date", [("course.yaml", 8, 10, "SCH002")], setup=replace("course.yaml", "start: 2027-03-01", "start: 2027-02-30")),
    Case("bad time range", [("course.yaml", 33, 13, "SCH002")],
         setup=replace("course.yaml", '      time: "16:30-18:00"\n      topic: Grundlagen', '      time: "halb fünf"\n      topic: Grundlagen')),
    Case("unknown session kind", [("course.yaml", 20, 13, "SCH002")], setup=replace("course.yaml", "kind: kickoff", "kind: start")),
    Case("missing required field", [("course.yaml", 7, 3, "SCH003")], setup=replace("course.yaml", "  run: 1\n", "")),
    Case("lesson without title", [(LESSON, 2, 1, "SCH003")], setup=replace(LESSON, "title: Einstieg\n", "")),
    Case("front matter not closed", [(LESSON, 1, 1, "FM001")], {LESSON: "---\ntitle: Einstieg\n\nText ohne Ende.\n"}),
    Case("no front matter", [(LESSON, 1, 1, "FM001")], {LESSON: "# Einstieg\n\nText.\n"}),
    Case("assessment without kind", [("assessments/projekt.md", 1, 1, "SCH003")], setup=replace("assessments/projekt.md", "kind: project\n", "")),
    Case("unknown assessment kind", [("assessments/projekt.md", 2, 7, "SCH002")], setup=replace("assessments/projekt.md", "kind: project", "kind: projekt")),
    # --- references and ids
    Case("dangling module in schedule", [("course.yaml", 41, 16, "REF001")],
         setup=replace("course.yaml", "      modules: [grundlagen]\n  milestones", "      modules: [grundlagn]\n  milestones")),
    Case("dangling objective", [(QUIZ, 10, 26, "REF001")], setup=replace(QUIZ, "{objectives=ziel}\nWas verbindet", "{objectives=zeil}\nWas verbindet")),
    Case("dangling presentation session", [("assessments/projekt.md", 6, 15, "REF001")],
         setup=replace("assessments/projekt.md", "presentation: abschluss", "presentation: finale")),
    Case("dangling certificate task", [("course.yaml", 16, 20, "REF001")], setup=replace("course.yaml", "tasks_submitted: [projekt]", "tasks_submitted: [projektarbeit]")),
    Case("duplicate session id", [("course.yaml", 25, 11, "REF002")], setup=replace("course.yaml", "id: abschluss", "id: auftakt")),
    Case("duplicate question id", [(QUIZ, 20, 1, "REF002")],
         setup=lambda root: (replace(QUIZ, "{objectives=ziel}\nWas verbindet", "{id=frage objectives=ziel}\nWas verbindet")(root),
                             replace(QUIZ, "## multiple: Mehrere Antworten {objectives=ziel}", "## multiple: Mehrere Antworten {id=frage objectives=ziel}")(root))),
    Case("bad objective id", [(MODULE, 5, 9, "REF003")], setup=replace(MODULE, "id: ziel\n", "id: Ziel_1\n")),
    # --- media and links
    Case("missing image", [(LESSON, 10, 32, "MED001")], setup=replace(LESSON, "media/karte.svg", "media/fehlt.svg")),
    Case("image without alt text", [(LESSON, 10, 5, "MED002")], setup=replace(LESSON, "![Eine Karte mit drei Kreisen]", "![]")),
    Case("image outside the course", [(LESSON, 10, 32, "MED004")], setup=replace(LESSON, "media/karte.svg", "../../../../etc/passwd")),
    Case("svg with script", [(LESSON, 10, 32, "MED003")],
         {"modules/01-grundlagen/media/karte.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}),
    Case("broken lesson link", [(LESSON, 12, 25, "LNK001")], setup=replace(LESSON, "(02-vertiefung.md#details)", "(02-vertiefen.md)")),
    Case("broken anchor", [(LESSON, 12, 25, "LNK002")], setup=replace(LESSON, "#details)", "#nirgends)")),
    # --- XSS
    Case("script element", [(LESSON, 8, 1, "SEC001")], setup=replace(LESSON, "Ein Netzwerk", "<script>alert('x')</script>\nEin Netzwerk")),
    Case("event handler attribute", [(LESSON, 8, 6, "SEC001")], setup=replace(LESSON, "Ein Netzwerk", '<img onerror="alert(1)" src="x">\nEin Netzwerk')),
    Case("javascript: link", [(LESSON, 8, 14, "SEC001")], setup=replace(LESSON, "Ein Netzwerk", "Klick [hier](javascript:alert(1)).\nEin Netzwerk")),
    Case("javascript: in answer feedback", [(QUIZ, 14, 15, "SEC001")],
         setup=replace(QUIZ, "  Richtig: Darum geht es.", '  Richtig: <a href="javascript:alert(1)">mehr</a>')),
    # --- questions
    Case("unknown question type", [(QUIZ, 5, 4, "QZ002")], quiz("## singel: Frage\nText?\n\n- (x) a\n  ok\n- ( ) b\n  nein\n")),
    Case("heading without type", [(QUIZ, 5, 1, "QZ001")], quiz("## : nichts\nText?\n")),
    Case("unknown attribute", [(QUIZ, 5, 19, "QZ003")], quiz("## single: Frage {punkte=2}\nText?\n\n- (x) a\n  ok\n- ( ) b\n  nein\n")),
    Case("bad points value", [(QUIZ, 5, 19, "QZ003")], quiz("## single: Frage {points=viel}\nText?\n\n- (x) a\n  ok\n- ( ) b\n  nein\n")),
    Case("single with two right answers", [(QUIZ, 5, 1, "Q001")], quiz("## single: Frage\nText?\n\n- (x) a\n  ok\n- (x) b\n  auch\n")),
    Case("multiple weights not 100", [(QUIZ, 8, 1, "Q002")],
         quiz("## multiple: Frage\nText?\n\n- [x] a {weight=60}\n  ok\n- [x] b {weight=60}\n  ok\n- [ ] c\n  nein\n")),
    Case("wrong answer with positive weight", [(QUIZ, 12, 1, "Q002")],
         quiz("## multiple: Frage\nText?\n\n- [x] a\n  ok\n- [x] b\n  ok\n- [ ] c {weight=50}\n  nein\n")),
    Case("numerical decimal comma", [(QUIZ, 8, 5, "Q003")], quiz("## numerical: Zahl\nWie viel?\n\n- = 2,5\n  ok\n")),
    Case("matching with one pair", [(QUIZ, 5, 1, "Q004")], quiz("## matching: Paare\nOrdnen Sie zu.\n\n- a => b\n  ok\n")),
    Case("answer without feedback", [(QUIZ, 10, 1, "Q005")], quiz("## single: Frage\nText?\n\n- (x) a\n  ok\n- ( ) b\n")),
    Case("choice question without answers", [(QUIZ, 5, 1, "Q006")], quiz("## single: Frage\nText ohne Antworten.\n")),
    Case("truefalse with other words", [(QUIZ, 5, 1, "Q007")], quiz("## truefalse: Aussage\nStimmt das?\n\n- (x) ja\n  ok\n- ( ) nein\n  nein\n")),
    Case("moodle cannot take the weight", [(QUIZ, 10, 1, "Q008")], quiz("## short: Wort\nWelches?\n\n- = Wort\n  ok\n- = Wrt {weight=45}\n  fast\n")),
    Case("ordering with one item", [(QUIZ, 5, 1, "Q009")], quiz("## ordering: Folge\nOrdnen Sie.\n\n1. nur eins\n   ok\n")),
    Case("short answer without full credit", [(QUIZ, 5, 1, "Q010")], quiz("## short: Wort\nWelches?\n\n- = Wort {weight=50}\n  halb\n")),
    Case("same answer twice", [(QUIZ, 10, 1, "Q011")], quiz("## single: Frage\nText?\n\n- (x) a\n  ok\n- ( ) a\n  nein\n")),
    Case("short answer twice in another case", [(QUIZ, 10, 1, "Q011")],
         quiz("## short: Wort\nWelches?\n\n- = Netzwerk\n  ok\n- = netzwerk {weight=50}\n  klein\n")),
    Case("checkbox answer in single choice", [(QUIZ, 8, 1, "Q013")], quiz("## single: Frage\nText?\n\n- [x] a\n  ok\n- ( ) b\n  nein\n")),
    Case("text after the answers", [(QUIZ, 12, 1, "QZ001")], quiz("## single: Frage\nText?\n\n- (x) a\n  ok\n- ( ) b\n  nein\nLose Zeile\n")),
    Case("quiz without questions", [(QUIZ, 1, 1, "QZ004")], quiz("Nur eine Einleitung.\n")),
    Case("pass mark unreachable by essays", [(MODULE, 3, 12, "PASS001")],
         setup=lambda root: (replace(MODULE, "pass_mark: 50", "pass_mark: 95")(root))),
    Case("pass mark above 100", [(MODULE, 3, 12, "PASS001")], setup=replace(MODULE, "pass_mark: 50", "pass_mark: 150")),
    # --- schedule
    Case("webinar outside the course", [("course.yaml", 36, 13, "SCHED001")],
         setup=replace("course.yaml", "date: 2027-03-10", "date: 2027-04-10")),
    Case("two webinars in one week", [("course.yaml", 36, 13, "SCHED002")],
         setup=replace("course.yaml", "date: 2027-03-10", "date: 2027-03-04")),
    Case("webinar overlaps an in-person day", [("course.yaml", 36, 13, "SCHED003")],
         setup=replace("course.yaml", "      start: 2027-03-12", "      start: 2027-03-10")),
    Case("module not placed", [(MODULE, 1, 1, "SCHED004")],
         setup=lambda root: (replace("course.yaml", "      modules: [grundlagen]\n    - date", "    - date")(root),
                             replace("course.yaml", "  self_study:\n    - week: 1\n      modules: [grundlagen]\n", "")(root))),
    Case("study budget exceeded", [("course.yaml", 10, 25, "SCHED005")], setup=replace("course.yaml", "study_minutes_per_week: 300", "study_minutes_per_week: 60")),
    Case("time ends before it starts", [("course.yaml", 33, 13, "SCHED006")],
         setup=replace("course.yaml", '"16:30-18:00"\n      topic: Grundlagen', '"18:00-16:30"\n      topic: Grundlagen')),
    Case("self-study week outside the course", [("course.yaml", 40, 13, "SCHED007")], setup=replace("course.yaml", "    - week: 1", "    - week: 5")),
    Case("graded task without a due date", [("assessments/projekt.md", 2, 1, "SCHED008")],
         setup=replace("assessments/projekt.md", "due: 2027-03-11\n", "")),
    Case("module task due before the module is studied", [("assessments/01-grundlagen/aufgabe.md", 5, 6, "SCHED009")],
         {"assessments/01-grundlagen/aufgabe.md": "---\nkind: assignment\nmodule: grundlagen\ntitle: Aufgabe\n"
                                                  "due: 2027-03-02\ncriteria:\n  - text: Vollständig\n    points: 10\n---\n\nTun Sie es.\n"},
         setup=replace("course.yaml", "    - week: 1\n      modules: [grundlagen]", "    - week: 2\n      modules: [grundlagen]")),
    Case("alumni meeting during the course", [("course.yaml", 47, 13, "SCHED001")], setup=replace("course.yaml", "date: 2027-05-05", "date: 2027-03-05")),
    # --- wording and coverage
    Case("objective not tested", [(MODULE, 7, 5, "OBJ001")],
         setup=replace(MODULE, "  - id: anwenden\n", "  - id: bewerten\n    text: Bewerten.\n  - id: anwenden\n")),
    Case("term the glossary avoids", [(LESSON, 8, 5, "TERM001")], setup=replace(LESSON, "Ein Netzwerk verbindet", "Die Netzwerkkoordinatoren verbinden")),
    Case("module template text left in", [(LESSON, 8, 25, "TXT003")],
         setup=replace(LESSON, "Ein Netzwerk verbindet", "Ein Netzwerk verbindet. Formulieren Sie hier die Frage. Es")),
    Case("placeholder text", [(LESSON, 8, 1, "TXT001")], setup=replace(LESSON, "Ein Netzwerk verbindet", "TODO Ein Netzwerk verbindet")),
    # The check skips texts by substring tests first; a dotless ı still matches 'i' as the regex does.
    Case("placeholder spelt with a dotless i", [(LESSON, 8, 5, "TXT001")],
         setup=replace(LESSON, "Ein Netzwerk verbindet", "Ein FIXME verbindet".replace("I", "\u0131"))),
]


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def _prepare(case: Case, root: Path) -> None:
    for rel, content in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if case.setup:
        case.setup(root)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_input(case: Case, mini: Path):
    _prepare(case, mini)
    run = run_course("check", str(mini), "--format", "json")
    assert run.exception is None, f"crashed: {run.exception!r}"
    assert "Traceback" not in run.output
    report = json.loads(run.stdout)
    found = {(d["file"], d["line"], d["column"], d["code"]) for d in report["diagnostics"]}
    for expected in case.expect:
        assert expected in found, f"expected {expected}, got:\n" + "\n".join(map(str, sorted(found)))
    severities = {d["code"]: d["severity"] for d in report["diagnostics"]}
    errors = any(severities[code] == "error" for *_, code in case.expect)
    assert run.code == (1 if errors else 0)
    for d in report["diagnostics"]:
        assert d["hint"], f"{d['code']} has no hint"


def test_clean_mini_course_has_no_diagnostics(mini: Path):
    run = run_course("check", str(mini))
    assert run.code == 0, run.output
    assert "0 error(s), 0 warning(s)" in run.stdout


def test_case_sensitive_short_answer_may_list_both_cases(mini: Path):
    """Under {case=true} 'Netzwerk' and 'netzwerk' are different answers (Moodle's usecase), not a duplicate."""
    _prepare(Case("", [], quiz("## short: Wort {case=true}\nWelches?\n\n- = Netzwerk\n  ok\n"
                               "- = netzwerk {weight=50}\n  klein geschrieben\n- = Netzwerk\n  doppelt\n")), mini)
    report = json.loads(run_course("check", str(mini), "--format", "json").stdout)
    duplicates = [(d["line"], d["code"]) for d in report["diagnostics"] if d["code"] == "Q011"]
    assert duplicates == [(12, "Q011")], "only the answer given twice in the same case"
