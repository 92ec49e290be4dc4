"""`course new module`: the title a German designer expects, and a schedule entry in an existing week."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from conftest import run_course
from terminal import run_on_terminal


def _module_title(root: Path, folder: str) -> str:
    return yaml.safe_load((root / "modules" / folder / "module.yaml").read_text(encoding="utf-8"))["title"]


def _self_study(root: Path) -> list[dict]:
    return yaml.safe_load((root / "course.yaml").read_text(encoding="utf-8"))["schedule"]["self_study"]


def test_title_without_terminal_capitalises_each_word(mini: Path):
    assert run_course("new", "module", "digitale-formate", "--course", str(mini)).code == 0
    assert _module_title(mini, "02-digitale-formate") == "Digitale Formate"
    assert run_course("new", "module", "arbeit-mit-daten", "--course", str(mini), "--title", "Arbeit mit Daten").code == 0
    assert _module_title(mini, "03-arbeit-mit-daten") == "Arbeit mit Daten"
    help_text = run_course("new", "module", "--help").stdout
    assert "capitalises each word" in " ".join(help_text.split())


def test_title_is_asked_in_a_terminal_with_the_capitalised_slug_as_default(mini: Path):
    code, shown = run_on_terminal([sys.executable, "-m", "course_builder", "new", "module", "digitale-formate",
                         "--course", str(mini)], "Digitale Formate im Netzwerk")
    assert code == 0, shown
    assert "Title of the module [Digitale Formate]:" in shown
    assert _module_title(mini, "02-digitale-formate") == "Digitale Formate im Netzwerk"
    code, shown = run_on_terminal([sys.executable, "-m", "course_builder", "new", "module", "lernen-im-team",
                         "--course", str(mini)], "")
    assert code == 0, shown
    assert _module_title(mini, "03-lernen-im-team") == "Lernen Im Team", "Enter takes the default"


def test_new_modules_join_the_last_weeks_entry(mini: Path):
    before = (mini / "course.yaml").read_text(encoding="utf-8")
    for slug in ("digitale-formate", "datenschutz"):
        assert run_course("new", "module", slug, "--course", str(mini)).code == 0
    assert _self_study(mini) == [{"week": 1, "modules": ["grundlagen"]},
                                 {"week": 2, "modules": ["digitale-formate", "datenschutz"]}]
    after = (mini / "course.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - week: 2", "      modules: [digitale-formate, datenschutz]"]
    assert run_course("check", str(mini), "--format", "json").code == 0


def test_block_style_week_list_gets_a_line_and_comments_stay(mini: Path):
    course_yaml = mini / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8")
    block = ("    - week: 2   # Abschlusswoche\n"
             "      modules:\n"
             "        - grundlagen   # Wiederholung\n")
    week_1 = "    - week: 1\n      modules: [grundlagen]\n"
    assert text.count(week_1) == 1
    text = text.replace(week_1, week_1 + block)
    course_yaml.write_text(text, encoding="utf-8")
    assert run_course("new", "module", "digitale-formate", "--course", str(mini)).code == 0
    expected = text.replace(block, block + "        - digitale-formate\n")
    assert course_yaml.read_text(encoding="utf-8") == expected


def test_module_already_in_the_schedule_is_not_placed_again(mini: Path):
    course_yaml = mini / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8").replace("modules: [grundlagen]", "modules: [grundlagen, digitale-formate]")
    course_yaml.write_text(text, encoding="utf-8")
    assert run_course("new", "module", "digitale-formate", "--course", str(mini)).code == 0
    assert course_yaml.read_text(encoding="utf-8") == text


def test_empty_schedule_is_a_usage_error_before_any_file_is_written(mini: Path):
    course_yaml = mini / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8")
    emptied = re.sub(r"^schedule:\n(?:[ \t].*\n|\n)*", "schedule: {}\n", text, flags=re.M)
    assert emptied != text
    course_yaml.write_text(emptied, encoding="utf-8")
    run = run_course("new", "module", "digitale-formate", "--course", str(mini))
    assert run.code == 2 and run.exception is None
    assert "'schedule' is empty" in run.output
    assert not (mini / "modules/02-digitale-formate").exists()
    assert course_yaml.read_text(encoding="utf-8") == emptied
