"""Quizzes as a whole: pass marks, objective coverage."""

from __future__ import annotations

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Course
from . import check


@check
def pass_marks_reachable(course: Course) -> list[Diagnostic]:
    out = []
    for m in course.modules:
        if m.pass_mark > 100:
            out.append(d.diag(d.PASS_UNREACHABLE, m.spec.field_loc("pass_mark"), f"pass mark {m.pass_mark:g} % is above 100 %",
                              "pass marks are percentages from 0 to 100"))
    for quiz in course.quizzes:
        if not quiz.questions:
            out.append(d.diag(d.QUIZ_EMPTY, quiz.loc, f"quiz '{quiz.id}' has no questions",
                              "add questions with '## single: …' headings (docs/authoring.md)"))
            continue
        module = course.module(quiz.module) if quiz.module else None
        mark = quiz.meta.pass_mark if quiz.meta.pass_mark is not None else (module.pass_mark if module else None)
        if mark is None:
            continue
        loc = quiz.meta.field_loc("pass_mark") if quiz.meta.pass_mark is not None else module.spec.field_loc("pass_mark")
        reachable = 100.0 * quiz.auto_points / quiz.points if quiz.points else 0.0
        if mark > 100:
            out.append(d.diag(d.PASS_UNREACHABLE, loc, f"pass mark {mark:g} % is above 100 %", "use a percentage from 0 to 100"))
        elif mark > reachable + 1e-9:
            out.append(d.diag(d.PASS_UNREACHABLE, loc,
                              f"pass mark {mark:g} % cannot be reached automatically: essays make up "
                              f"{100 - reachable:.0f} % of the points and are graded by a teacher",
                              f"lower the pass mark to at most {reachable:.0f} % or give essays fewer points"))
    return out


@check
def objectives_tested(course: Course) -> list[Diagnostic]:
    out = []
    for m in course.modules:
        quiz = course.quiz_for(m.id)
        if quiz is None:
            out.append(d.diag(d.MOD_NO_QUIZ, m.loc, f"module '{m.id}' has no quiz",
                              f"add assessments/{m.slug}/quiz.md with 'kind: quiz'"))
            continue
        tested = {ref for q in quiz.questions for ref in q.objectives}
        for obj in m.objectives:
            if obj.id not in tested:
                out.append(d.diag(d.OBJ_UNTESTED, obj.loc, f"objective '{obj.id}' is not tested by any question of '{quiz.id}'",
                                  f"add objectives={obj.id} to a question that tests it"))
    return out
