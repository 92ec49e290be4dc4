"""Item-writing checks (ITEM001–ITEM008): each fires where a key can be guessed, and stays silent where not."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_builder import check

QUIZ = "assessments/01-grundlagen/quiz.md"
REFLECTION = "assessments/01-grundlagen/reflexion.md"
HEAD = "---\nkind: quiz\nmodule: grundlagen\ntitle: Q\n---\n\n"


def single(name: str, right: str, wrong: list[str]) -> str:
    options = [f"- (x) {right}\n  Richtig: ja.\n"] + [f"- ( ) {w}\n  Falsch: nein.\n" for w in wrong]
    return f"## single: {name} {{objectives=ziel}}\nWas stimmt?\n\n" + "".join(options) + "\n"


def multiple(name: str, right: int, total: int) -> str:
    options = [f"- [{'x' if i < right else ' '}] Option {name} {i}\n  Erklärung.\n" for i in range(total)]
    return f"## multiple: {name} {{objectives=ziel}}\nWas gehört dazu?\n\n" + "".join(options) + "\n"


def truefalse(name: str, key: str) -> str:
    other = "falsch" if key == "wahr" else "wahr"
    return (f"## truefalse: {name} {{objectives=anwenden}}\nAussage {name}.\n\n"
            f"- (x) {key}\n  Richtig.\n- ( ) {other}\n  Falsch.\n\n")


def short(name: str, stem: str, answers: list[str]) -> str:
    lines = "".join(f"- = {a}\n  Richtig.\n" for a in answers)
    return f"## short: {name} {{objectives=ziel}}\n{stem}\n\n{lines}\n"


def essay(name: str, stem: str) -> str:
    return f"## essay: {name} {{objectives=anwenden}}\n{stem}\n\n"


def codes(root: Path, body: str, code: str) -> list:
    (root / QUIZ).write_text(HEAD + body, encoding="utf-8")
    _, diagnostics = check(root)
    assert not [d for d in diagnostics if d.is_error], [str(d.loc) + d.message for d in diagnostics if d.is_error]
    return [d for d in diagnostics if d.code.id == code]


def line_of(root: Path, text: str) -> int:
    return next(i for i, line in enumerate((root / QUIZ).read_text().splitlines(), 1) if text in line)


def test_longest_right_answer(mini):
    body = "".join(single(f"F{i}", "Eine ausführlich begründete und lange richtige Antwort", ["Kurz", "Knapp"]) for i in range(3))
    found = codes(mini, body, "ITEM001")
    assert len(found) == 1 and "3 of 3" in found[0].message
    assert found[0].loc.line == line_of(mini, "## single: F0")
    balanced = "".join(single(f"F{i}", "Kurz", ["Eine ausführlich begründete lange Antwort", "Knapp"]) for i in range(3))
    assert codes(mini, balanced, "ITEM001") == []


def test_fixed_count_of_right_answers(mini):
    same = "".join(multiple(f"M{i}", 3, 5) for i in range(4))
    found = codes(mini, same, "ITEM002")
    assert len(found) == 1 and "4 of 4" in found[0].message and "3 right of 5" in found[0].message
    varied = "".join(multiple(f"M{i}", right, 5) for i, right in enumerate([1, 2, 3, 4]))
    assert codes(mini, varied, "ITEM002") == []


def test_true_false_balance(mini):
    found = codes(mini, "".join(truefalse(f"T{i}", "falsch") for i in range(4)) + truefalse("T9", "wahr"), "ITEM003")
    assert len(found) == 1 and "4 of 5" in found[0].message and "'falsch'" in found[0].message
    assert codes(mini, "".join(truefalse(f"T{i}", k) for i, k in enumerate(["wahr", "falsch"] * 2)), "ITEM003") == []


def test_absolute_word_only_in_a_distractor(mini):
    found = codes(mini, single("A", "Meistens hilft ein Gespräch", ["Man muss immer eskalieren", "Nichts"]), "ITEM004")
    assert [d.loc.line for d in found] == [line_of(mini, "immer eskalieren")]
    assert "immer" in found[0].message
    both = single("A", "Man sollte nie allein entscheiden", ["Man muss immer eskalieren", "Nichts"])
    assert codes(mini, both, "ITEM004") == []


def test_leading_wildcard(mini):
    found = codes(mini, short("S", "Welche Strategie?", ["*zufriedenstellen", "Zufrieden stellen*"]), "ITEM005")
    assert [d.loc.line for d in found] == [line_of(mini, "*zufriedenstellen")]
    assert "nicht zufriedenstellen" in found[0].message


def test_stem_contains_an_answer(mini):
    own = codes(mini, short("S", "Wie heißt die Verstetigung eines Netzwerks?", ["Verstetigung"]), "ITEM006")
    assert len(own) == 1 and own[0].loc.line == line_of(mini, "## short: S")
    other = short("Begriff", "Wie heißt das Format ohne festes Programm?", ["Barcamp"]) + essay(
        "E", "Planen Sie ein Barcamp für Ihr Netzwerk und begründen Sie die Wahl.")
    found = codes(mini, other, "ITEM006")
    assert len(found) == 1 and found[0].loc.line == line_of(mini, "## essay: E") and "'Barcamp'" in found[0].message
    assert codes(mini, short("S", "Wie heißt das Format?", ["Barcamp"]), "ITEM006") == []


def test_same_answer_twice(mini):
    body = single("Wahl", "Barcamp", ["Stammtisch", "Werkstatt"]) + short("Name", "Wie heißt das Format?", ["Barcamp"])
    found = codes(mini, body, "ITEM007")
    assert len(found) == 1 and found[0].loc.line == line_of(mini, "## short: Name")
    shown = single("Wahl", "Werkstatt", ["Barcamp", "Stammtisch"]) + short("Name", "Wie heißt das Format?", ["Barcamp"])
    assert len(codes(mini, shown, "ITEM007")) == 1  # a wrong option that is the other question's answer shows it too
    assert codes(mini, single("Wahl", "Werkstatt", ["Stammtisch", "Runde"]) + short("Name", "Format?", ["Barcamp"]),
                 "ITEM007") == []


def test_essay_repeating_a_reflection_task(mini):
    reflection = (mini / REFLECTION).read_text(encoding="utf-8")
    prompt = "Welche Akteur:innen fehlen auf Ihrer Netzwerkkarte, und wie gewinnen Sie diese Partner:innen?"
    (mini / REFLECTION).write_text(reflection.replace("questions:\n", f"questions:\n  - {prompt}\n", 1), encoding="utf-8")
    assert prompt in (mini / REFLECTION).read_text(encoding="utf-8")
    graded = truefalse("T", "wahr")  # an auto-graded item keeps the pass mark reachable
    found = codes(mini, graded + essay("E", "Beschreiben Sie, welche Akteur:innen auf Ihrer Netzwerkkarte fehlen und "
                                            "wie Sie diese Partner:innen gewinnen."), "ITEM008")
    assert len(found) == 1 and "reflection task" in found[0].message
    assert codes(mini, graded + essay("E", "Entwerfen Sie eine Pressemitteilung zum Start des Netzwerks."), "ITEM008") == []


def test_thresholds_and_switches_come_from_course_yaml(mini):
    body = "".join(multiple(f"M{i}", 3, 5) for i in range(4))
    course = mini / "course.yaml"
    text = course.read_text(encoding="utf-8")
    course.write_text(text + "checks:\n  key_pattern_share: 1.0\n", encoding="utf-8")
    assert codes(mini, body, "ITEM002") == []  # 4 of 4 is not above 1.0
    course.write_text(text + "checks:\n  disable: [ITEM002]\n", encoding="utf-8")
    assert codes(mini, body, "ITEM002") == []


@pytest.mark.parametrize("name, message", [("Q001", "is an error and cannot be switched off"), ("ITEM999", "is no diagnostic code")])
def test_only_known_warnings_can_be_switched_off(mini, name, message):
    course = mini / "course.yaml"
    course.write_text(course.read_text(encoding="utf-8") + f"checks:\n  disable: [{name}]\n", encoding="utf-8")
    _, diagnostics = check(mini)
    found = [d for d in diagnostics if d.code.id == "CHK001"]
    assert len(found) == 1 and message in found[0].message
    assert found[0].loc.file == "course.yaml" and found[0].loc.line == len(course.read_text().splitlines())
