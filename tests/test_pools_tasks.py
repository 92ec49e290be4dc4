"""Item pools (`draw:`), graded tasks' pass points and module sources: what course check says of them."""

from __future__ import annotations

from course_builder import check

QUIZ = "assessments/01-grundlagen/quiz.md"


def tf(name: str, objective: str, group: str = "") -> str:
    attrs = f"objectives={objective}" + (f" group={group}" if group else "")
    return f"## truefalse: {name} {{{attrs}}}\nAussage {name}.\n\n- (x) wahr\n  Ja.\n- ( ) falsch\n  Nein.\n\n"


def write_quiz(root, draw: str, body: str) -> None:
    (root / QUIZ).write_text(f"---\nkind: quiz\ntitle: Q\ndraw: {draw}\n---\n\n{body}", encoding="utf-8")


def found(root, code: str) -> list:
    _, diagnostics = check(root)
    return [d for d in diagnostics if d.code.id == code]


def test_pools_partition_the_questions_in_draw_order(mini):
    write_quiz(mini, "[1 from ziel, 2 from anwenden]", tf("A", "ziel") + tf("B", "ziel,anwenden") + tf("C", "anwenden")
               + tf("D", "anwenden"))
    _, diagnostics = check(mini)
    quiz = next(q for q in check(mini)[0].quizzes if q.id.endswith("quiz"))
    assert [(n, [q.name for q in members]) for n, members in quiz.pools()] == [(1, ["A", "B"]), (2, ["C", "D"])]
    assert not [d for d in diagnostics if d.code.id.startswith("QZ")]


def test_a_draw_that_cannot_be_filled_is_an_error_at_the_draw_line(mini):
    write_quiz(mini, "[3 from ziel]", tf("A", "ziel") + tf("B", "ziel"))
    errors = found(mini, "QZ005")
    assert len(errors) == 1 and "the pool has 2" in errors[0].message
    assert (errors[0].loc.file, errors[0].loc.line) == (QUIZ, 4)


def test_unknown_pool_and_never_drawn_question(mini):
    write_quiz(mini, "[1 from faelle, 1 from ziel]", tf("A", "ziel") + tf("B", "ziel") + tf("C", "anwenden", "extra"))
    assert "'faelle' is neither an objective" in found(mini, "QZ005")[0].message
    never = found(mini, "QZ006")
    assert [d.message for d in never] == ["question 'C' is in no pool of 'draw:' and is never asked"]


def test_groups_are_pools_and_a_whole_pool_is_no_choice(mini):
    write_quiz(mini, "[2 from faelle]", tf("A", "ziel", "faelle") + tf("B", "anwenden", "faelle"))
    assert found(mini, "QZ005") == [] and len(found(mini, "QZ007")) == 1
    write_quiz(mini, "[1 from faelle]", tf("A", "ziel", "faelle") + tf("B", "anwenden", "faelle"))
    assert found(mini, "QZ007") == []


def test_malformed_draw_entry(mini):
    write_quiz(mini, "[zwei aus ziel]", tf("A", "ziel"))
    errors = found(mini, "SCH002")
    assert errors and "is not 'N from POOL'" in errors[0].message


def test_task_pass_points(mini):
    task = mini / "assessments/projekt.md"
    text = task.read_text(encoding="utf-8")
    task.write_text(text.replace("group_size: 4\n", "group_size: 4\npass_points: 120\n"), encoding="utf-8")
    assert "more than the criteria give (100)" in found(mini, "TASK001")[0].message
    task.write_text(text, encoding="utf-8")
    course = mini / "course.yaml"
    course.write_text(course.read_text(encoding="utf-8").replace("  tasks_submitted: [projekt]\n",
                                                                 "  tasks_submitted: [projekt]\n  tasks_passed: [projekt]\n"),
                      encoding="utf-8")
    assert "sets no pass_points" in found(mini, "TASK001")[0].message
    task.write_text(text.replace("group_size: 4\n", "group_size: 4\npass_points: 60\n"), encoding="utf-8")
    assert found(mini, "TASK001") == []


def test_module_without_sources_is_a_warning(mini):
    assert found(mini, "SRC001") == []
    module = mini / "modules/01-grundlagen/module.yaml"
    text = module.read_text(encoding="utf-8")
    module.write_text(text[:text.index("sources:")], encoding="utf-8")
    assert [d.loc.file for d in found(mini, "SRC001")] == ["modules/01-grundlagen/module.yaml"]
