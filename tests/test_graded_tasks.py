"""Graded tasks (kind: assignment) and pass points reach Moodle: an assign activity with grade, pass grade and,
where the certificate requires passing, completion by pass grade — whatever delivers the module."""

from __future__ import annotations

import pytest

from test_moodle_backup import Backup, build

ASSIGNMENT = """---
kind: assignment
title: Netzwerkkonzept entwickeln
criteria:
  - text: Ziele sind messbar
    points: 20
  - text: Akteur:innen begründet ausgewählt
    points: 20
pass_points: 24
---

Entwickeln Sie ein Konzept für Ihr Netzwerk.
"""


def graded(mini):
    (mini / "assessments/01-grundlagen/konzept.md").write_text(ASSIGNMENT, encoding="utf-8")
    course = mini / "course.yaml"
    course.write_text(course.read_text(encoding="utf-8").replace(
        "  tasks_submitted: [projekt]\n", "  tasks_submitted: [projekt]\n  tasks_passed: [grundlagen-konzept]\n"),
        encoding="utf-8")
    return mini


def assigns(backup: Backup) -> dict[str, tuple]:
    """title → (assign element, module.xml root, grade item) of every assign activity."""
    out = {}
    for _, _, directory, modname in backup.activities():
        if modname == "assign":
            assign = backup.xml(f"{directory}/assign.xml").find("assign")
            item = backup.xml(f"{directory}/grades.xml").find("grade_items/grade_item")
            out[assign.findtext("name")] = (assign, backup.xml(f"{directory}/module.xml"), item)
    return out


@pytest.mark.parametrize("delivery", ["scorm", "native"])
def test_assignment_is_a_graded_individual_assign_with_pass_grade_completion(mini, tmp_path, delivery):
    backup = Backup(build(graded(mini), tmp_path, "--moodle-delivery", delivery))
    found = assigns(backup)
    assign, module, item = found["Netzwerkkonzept entwickeln"]
    assert assign.findtext("teamsubmission") == "0" and assign.findtext("grade") == "40"
    assert "Bestanden ab 24 von 40 Punkten." in assign.findtext("intro")
    assert float(item.findtext("grademax")) == 40 and float(item.findtext("gradepass")) == 24
    assert module.findtext("completionpassgrade") == "1" and module.findtext("completiongradeitemnumber") == "0"
    assert module.findtext("groupmode") == "0"
    project, project_module, _ = found["Projektarbeit"]
    assert project.findtext("teamsubmission") == "1" and project_module.findtext("completionpassgrade") == "0"
    criteria = backup.xml("completion.xml").findall("course_completion_criteria")
    assert [c.findtext("moduleinstance") for c in criteria].count(module.get("id")) == 1


def test_assignment_not_required_by_the_certificate_keeps_submission_completion(mini, tmp_path):
    (mini / "assessments/01-grundlagen/konzept.md").write_text(ASSIGNMENT, encoding="utf-8")
    backup = Backup(build(mini, tmp_path))
    _, module, item = assigns(backup)["Netzwerkkonzept entwickeln"]
    assert module.findtext("completionpassgrade") == "0" and float(item.findtext("gradepass")) == 24
