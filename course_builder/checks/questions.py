"""Quizzes as a whole: pass marks, objective coverage."""

from __future__ import annotations

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Course
from . import check, node_findings, per_node


@check
def pass_marks_reachable(course: Course) -> list[Diagnostic]:
    out = per_node(course.modules, _module_pass_mark)
    for quiz in course.quizzes:
        module = course.module(quiz.module) if quiz.module else None
        out += node_findings("pass-mark", quiz, (module,), lambda quiz=quiz, module=module: _quiz_pass_mark(quiz, module))
    return out


def _module_pass_mark(m) -> list[Diagnostic]:
    if m.pass_mark > 100:
        return [d.diag(d.PASS_UNREACHABLE, m.spec.field_loc("pass_mark"), f"pass mark {m.pass_mark:g} % is above 100 %",
                       "pass marks are percentages from 0 to 100")]
    return []


def _quiz_pass_mark(quiz, module) -> list[Diagnostic]:
    if not quiz.questions:
        return [d.diag(d.QUIZ_EMPTY, quiz.loc, f"quiz '{quiz.id}' has no questions",
                       "add questions with '## single: …' headings (docs/authoring.md)")]
    mark = quiz.meta.pass_mark if quiz.meta.pass_mark is not None else (module.pass_mark if module else None)
    if mark is None:
        return []
    loc = quiz.meta.field_loc("pass_mark") if quiz.meta.pass_mark is not None else module.spec.field_loc("pass_mark")
    reachable = 100.0 * quiz.auto_points / quiz.points if quiz.points else 0.0
    if mark > 100:
        return [d.diag(d.PASS_UNREACHABLE, loc, f"pass mark {mark:g} % is above 100 %", "use a percentage from 0 to 100")]
    if mark > reachable + 1e-9:
        return [d.diag(d.PASS_UNREACHABLE, loc,
                       f"pass mark {mark:g} % cannot be reached automatically: essays make up "
                       f"{100 - reachable:.0f} % of the points and are graded by a teacher",
                       f"lower the pass mark to at most {reachable:.0f} % or give essays fewer points")]
    return []


@check
def objectives_tested(course: Course) -> list[Diagnostic]:
    out = []
    for m in course.modules:
        quiz = course.quiz_for(m.id)
        out += node_findings("objectives-tested", m, (quiz,), lambda m=m, quiz=quiz: _objectives_tested(m, quiz))
    return out


def _objectives_tested(m, quiz) -> list[Diagnostic]:
    if quiz is None:
        return [d.diag(d.MOD_NO_QUIZ, m.loc, f"module '{m.id}' has no quiz",
                       f"add assessments/{m.slug}/quiz.md with 'kind: quiz'")]
    tested = {ref for q in quiz.questions for ref in q.objectives}
    return [d.diag(d.OBJ_UNTESTED, obj.loc, f"objective '{obj.id}' is not tested by any question of '{quiz.id}'",
                   f"add objectives={obj.id} to a question that tests it")
            for obj in m.objectives if obj.id not in tested]


@check
def draws_fillable(course: Course) -> list[Diagnostic]:
    out = []
    for quiz in course.quizzes:
        if not quiz.meta.draw or not quiz.questions:
            continue
        loc = quiz.meta.field_loc("draw")
        module = course.module(quiz.module) if quiz.module else None
        names = {q.group for q in quiz.questions if q.group} | {o for q in quiz.questions for o in q.objectives}
        names |= {o.id for o in (module.objectives if module else [])}
        fixed = True
        for (count, members), (_, pool) in zip(quiz.pools(), quiz.meta.draws):
            if pool not in names:
                out.append(d.diag(d.QUIZ_DRAW, loc, f"'{pool}' is neither an objective of the module nor a question's group",
                                  "name an objective id, or set {group=" + pool + "} on the questions of the pool"))
            elif count > len(members):
                out.append(d.diag(d.QUIZ_DRAW, loc, f"'{count} from {pool}' needs {count} questions; the pool has {len(members)}"
                                  + (" (questions of earlier pools are not drawn again)" if len(members) else ""),
                                  f"draw at most {len(members)} or add questions with objectives={pool}"))
            fixed = fixed and count >= len(members)
        drawn = {q.id for _, members in quiz.pools() for q in members}
        for q in quiz.questions:
            if q.id not in drawn:
                out.append(d.diag(d.QUIZ_NEVER_DRAWN, q.loc, f"question '{q.name}' is in no pool of 'draw:' and is never asked",
                                  "add its objective or group to 'draw:', or remove the question"))
        if fixed and not any(diag.code is d.QUIZ_DRAW for diag in out):
            out.append(d.diag(d.QUIZ_DRAW_FIXED, loc, "every pool is drawn whole, so every attempt asks the same questions",
                              "add questions to a pool, or draw fewer from it"))
    return out


@check
def task_pass_points(course: Course) -> list[Diagnostic]:
    out = []
    for task in course.tasks:
        meta = task.meta
        total = sum(c.points for c in meta.criteria)
        if meta.pass_points is not None and meta.pass_points > total:
            out.append(d.diag(d.TASK_PASS, meta.field_loc("pass_points"),
                              f"pass_points {meta.pass_points:g} is more than the criteria give ({total:g})",
                              "lower pass_points or add criteria with points"))
    cert = course.spec.certificate if course.spec else None
    by_id = {t.id: t for t in course.tasks}
    for ref in cert.tasks_passed if cert else []:
        task = by_id.get(ref)
        if task is not None and task.meta.pass_points is None:
            out.append(d.diag(d.TASK_PASS, cert.field_loc("tasks_passed"),
                              f"the certificate requires '{ref}' to be passed, but it sets no pass_points",
                              f"add 'pass_points:' (and criteria with points) to the task '{ref}'"))
    return out
