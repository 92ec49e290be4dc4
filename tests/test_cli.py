"""The `course` command: exit codes, report formats, atomic and reproducible builds, scaffolding."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run_course

LESSON = "modules/01-grundlagen/01-einstieg.md"


def break_lesson(root: Path) -> None:
    (root / LESSON).write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")


def test_bundled_course_is_clean():
    run = run_course("check", str(REPO), "--strict")
    assert run.code == 0, run.output


def test_errors_exit_1_and_report_every_problem(mini: Path):
    break_lesson(mini)
    module = mini / "modules/01-grundlagen/module.yaml"
    module.write_text(module.read_text(encoding="utf-8").replace("pass_mark:", "passmark:"), encoding="utf-8")
    run = run_course("check", str(mini))
    assert run.code == 1
    assert f"{LESSON}:2:8: error[YAML001]" in run.stdout
    assert "modules/01-grundlagen/module.yaml:3:1: error[SCH001]: unknown key 'passmark'" in run.stdout
    assert "2 error(s)" in run.stdout, "one mistake each, no follow-on errors"
    assert "hint: did you mean 'pass_mark'?" in run.stdout


def test_not_a_course_is_a_usage_error(tmp_path: Path):
    run = run_course("check", str(tmp_path))
    assert run.code == 2
    assert "no course.yaml" in run.output
    assert run.exception is None


def test_warnings_pass_unless_strict(mini: Path):
    quiz = mini / "assessments/01-grundlagen/quiz.md"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("  Richtig: Darum geht es.\n", ""), encoding="utf-8")
    assert run_course("check", str(mini)).code == 0
    assert run_course("check", str(mini), "--strict").code == 1


def test_json_report(mini: Path):
    break_lesson(mini)
    report = json.loads(run_course("check", str(mini), "--format", "json").stdout)
    assert report["summary"]["errors"] == len([d for d in report["diagnostics"] if d["severity"] == "error"]) >= 1
    first = report["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "severity", "code", "message", "hint"}


def test_sarif_report(mini: Path):
    break_lesson(mini)
    sarif = json.loads(run_course("check", str(mini), "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    result = run["results"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_github_annotations(mini: Path):
    break_lesson(mini)
    out = run_course("check", str(mini), "--format", "github").stdout
    assert f"::error file={LESSON},line=2,col=8,title=YAML001::" in out


def test_build_stops_on_errors_and_keeps_old_output(mini: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert run_course("build", str(mini), "--out", str(out)).code == 0
    index = out / "html" / "index.html"
    before = index.read_bytes()
    break_lesson(mini)
    run = run_course("build", str(mini), "--out", str(out))
    assert run.code == 1
    assert "build stopped" in run.stderr
    assert index.read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging folders left behind"


def test_unknown_target_is_a_usage_error(mini: Path, tmp_path: Path):
    run = run_course("build", str(mini), "-t", "pdf", "--out", str(tmp_path))
    assert run.code == 2
    assert "unknown target" in run.output


@pytest.mark.parametrize("hook", ["units", "build"])
def test_failing_target_leaves_nothing_half_written(mini: Path, tmp_path: Path, monkeypatch, hook: str):
    """Both kinds of target: one that lists units (built incrementally) and a plug-in with build() only."""
    from course_builder.targets.html import HtmlSite
    from course_builder.units import Units

    out = tmp_path / "out"

    def no_space():
        raise OSError(28, "No space left on device")

    def explode_units(self, course, options):
        units = Units(course, "html", options.cache)
        units.add("index.html", lambda: b"whole")
        units.add("partial.html", no_space)
        return units

    def explode_build(self, course, staging, options):
        (staging / "partial.html").write_text("half")
        no_space()

    if hook == "units":
        monkeypatch.setattr(HtmlSite, "units", explode_units)
    else:
        monkeypatch.delattr(HtmlSite, "units")
        monkeypatch.setattr(HtmlSite, "build", explode_build)
    run = run_course("build", str(mini), "--out", str(out))
    assert run.code == 2
    assert "No space left" in run.stderr
    assert not (out / "html").exists()
    # Targets built before html (e.g. gift) are there whole; no staging folder may be left behind.
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_two_builds_give_identical_zips(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_course("build", str(REPO), "--out", str(a)).code == 0
    assert run_course("build", str(REPO), "--out", str(b)).code == 0
    zips_a = sorted(p.relative_to(a) for p in a.rglob("*.zip"))
    assert zips_a and zips_a == sorted(p.relative_to(b) for p in b.rglob("*.zip"))
    for rel in zips_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        with zipfile.ZipFile(a / rel) as zf:
            names = zf.namelist()
            assert names == sorted(names)
            assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_scaffolded_module_checks_without_errors_and_flags_the_template_text(mini: Path):
    """A fresh scaffold passes `course check`; its example sentences are TXT003 warnings until replaced.

    So `--strict` fails on a fresh scaffold by design: that is the reminder a designer should see.
    """
    from course_builder.scaffold import placeholder_sentences

    run = run_course("new", "module", "digitale-formate", "--course", str(mini), "--title", "Digitale Formate")
    assert run.code == 0, run.output
    assert (mini / "modules/02-digitale-formate/module.yaml").is_file()
    check = run_course("check", str(mini), "--format", "json")
    assert check.code == 0, check.output
    report = json.loads(check.stdout)
    assert report["summary"]["errors"] == 0
    # the template's example sentences, and the sources only the designer can name
    assert {d["code"] for d in report["diagnostics"]} == {"TXT003", "SRC001"}
    flagged = {d["message"].split("'")[1] for d in report["diagnostics"] if d["code"] == "TXT003"}
    assert "Formulieren Sie hier die Frage." in flagged
    assert flagged == set(placeholder_sentences()), "every example sentence of the templates is found"
    assert run_course("check", str(mini), "--strict").code == 1

    for i, path in enumerate(sorted(mini.glob("*/02-digitale-formate/*"))):
        text = path.read_text(encoding="utf-8")
        for j, sentence in enumerate(placeholder_sentences()):
            text = text.replace(sentence, f"Eigener Text {i}-{j}{sentence[-1]}")
        path.write_text(text, encoding="utf-8")
    module_yaml = mini / "modules/02-digitale-formate/module.yaml"
    module_yaml.write_text(module_yaml.read_text(encoding="utf-8") + "sources:\n  - author: Muster, M.\n    year: 2026\n"
                           "    title: Digitale Formate\n", encoding="utf-8")
    replaced = run_course("check", str(mini), "--strict")
    assert replaced.code == 0, replaced.output
    assert run_course("new", "module", "digitale-formate", "--course", str(mini)).code == 2


def test_scaffold_rejects_bad_slug(mini: Path):
    run = run_course("new", "module", "Digitale Formate", "--course", str(mini))
    assert run.code == 2
    assert "valid slug" in run.output


def test_console_script_runs_without_traceback(tmp_path: Path):
    exe = Path(sys.executable).with_name("course")
    proc = subprocess.run([str(exe), "check", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_every_diagnostic_code_is_documented():
    from course_builder.diagnostics import all_codes

    doc = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| ([A-Z]+\d+) \|", doc, re.M))
    assert documented == {c.id for c in all_codes()}
