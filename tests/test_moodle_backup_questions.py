"""Which questions a course backup carries (`-O questions=used|all`): by default only those its Moodle
quizzes ask or draw from, so a restore does not fill the course's bank with questions nothing uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MINI, run_course
from test_moodle_backup import Backup, build, pooled_mini

SELF_CHECK = """---
kind: quiz
title: Abschluss-Selbstcheck
attempts: 0
---

## single: Selbstcheck eins
Was verbindet ein Netzwerk?

- (x) Akteur:innen
  Richtig.
- ( ) Nichts
  Falsch.

## truefalse: Selbstcheck zwei
Netzwerke brauchen Pflege.

- (x) Wahr
  Richtig.
- ( ) Falsch
  Falsch.
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The mini course with a module quiz in item pools and a course-level self-check of two questions."""
    root = pooled_mini(tmp_path_factory.mktemp("questions") / "mini")
    (root / "assessments" / "selbstcheck.md").write_text(SELF_CHECK, encoding="utf-8")
    return root


def carried(backup: Backup) -> dict[str, list[str]]:
    """Question names by category idnumber, as questions.xml carries them."""
    return {c.findtext("idnumber"): [q.findtext("name") for q in c.iter("question")]
            for c in backup.xml("questions.xml").iter("question_category")}


def used(backup: Backup) -> tuple[set[str], set[str]]:
    """(bank entry ids the quizzes' fixed slots name, category ids their random slots draw from)."""
    import json

    entries, drawn = set(), set()
    for name in backup.files:
        if name.endswith("/quiz.xml"):
            xml = backup.xml(name)
            entries |= {r.findtext("questionbankentryid") for r in xml.iter("question_reference")}
            drawn |= {str(json.loads(r.findtext("filtercondition"))["filter"]["category"]["values"][0])
                      for r in xml.iter("question_set_reference")}
    return entries, drawn


def entries_by_category(backup: Backup) -> dict[str, set[str]]:
    return {c.get("id"): {e.get("id") for e in c.iter("question_bank_entry")}
            for c in backup.xml("questions.xml").iter("question_category")}


@pytest.mark.parametrize("delivery", ["scorm", "native"])
def test_the_backup_carries_exactly_the_questions_its_quizzes_use(course: Path, tmp_path: Path, delivery: str):
    backup = Backup(build(course, tmp_path, "--moodle-delivery", delivery))
    entries, drawn = used(backup)
    by_category = entries_by_category(backup)
    carried_ids = set().union(*by_category.values())
    assert carried_ids == entries | set().union(*(by_category[c] for c in drawn))
    names = carried(backup)
    self_check = next(key for key in names if key.endswith("-selbstcheck"))
    assert names[self_check] == ["Selbstcheck eins", "Selbstcheck zwei"]
    pools = [key for key in names if key.endswith(("-ziel", "-anwenden"))]
    if delivery == "scorm":  # the module's quiz lives in its SCORM package: none of its questions in the bank
        assert not pools and sum(map(len, names.values())) == 2
    else:  # random slots draw from the whole pools
        assert len(pools) == 2 and all(len(names[p]) >= 3 for p in pools)


def test_questions_all_carries_the_whole_bank(course: Path, tmp_path: Path):
    used_backup = carried(Backup(build(course, tmp_path / "used")))
    every = carried(Backup(build(course, tmp_path / "all", "-O", "questions=all")))
    native = carried(Backup(build(course, tmp_path / "native", "--moodle-delivery", "native")))
    assert sum(map(len, every.values())) > sum(map(len, used_backup.values()))
    assert every == native  # natively every question of this course is asked or drawn from


def test_an_unknown_questions_value_is_refused_before_anything_is_written(tmp_path: Path):
    result = run_course("build", str(MINI), "-t", "moodle-backup", "-o", str(tmp_path), "-O", "questions=some")
    assert result.code == 2 and "questions must be one of used, all" in result.stderr
    assert not (tmp_path / "moodle-backup").exists()
