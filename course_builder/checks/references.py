"""Ids: well-formed, unique, and every reference resolves."""

from __future__ import annotations

import difflib
from typing import Iterable

from .. import diagnostics as d
from ..diagnostics import Diagnostic, SourceLoc
from ..model import ID_PATTERN, Course
from ..nodememo import node_memo
from . import check, node_findings, per_node


def _dangling(what: str, ref: str, known: Iterable[str], loc: SourceLoc) -> Diagnostic:
    known = sorted(known)
    close = difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif known:
        hint = f"known {what}s: " + ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
    else:
        hint = f"there is no {what} yet"
    return d.diag(d.REF_DANGLING, loc, f"unknown {what} '{ref}'", hint)


def _unique(what: str, items: Iterable[tuple[str, SourceLoc]]) -> list[Diagnostic]:
    seen: dict[str, SourceLoc] = {}
    out = []
    for ident, loc in items:
        if ident in seen:
            first = seen[ident]
            out.append(d.diag(d.REF_DUPLICATE, loc, f"{what} id '{ident}' is already used at {first}",
                              f"give this {what} another id"))
        else:
            seen[ident] = loc
    return out


def _well_formed(what: str, items: Iterable[tuple[str, SourceLoc]]) -> list[Diagnostic]:
    return [
        d.diag(d.REF_BAD_ID, loc, f"{what} id '{ident}' may only use a–z, 0–9 and '-'",
               "rename it, e.g. " + "-".join(ident.lower().replace("_", "-").split()))
        for ident, loc in items
        if not ID_PATTERN.match(ident)
    ]


@check
def ids_unique_and_well_formed(course: Course) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    modules = [(m.id, m.loc) for m in course.modules]
    out += _well_formed("module", modules) + _unique("module", modules)
    out += per_node(course.modules, _ids_in_module)
    out += per_node([*course.quizzes, *course.tasks], _assessment_id_well_formed)
    # Duplicates are rare: a set of the ids tells whether the pairs with their places need to be made.
    ids = [q.id for q in course.quizzes] + [t.id for t in course.tasks]
    if len(set(ids)) < len(ids):
        assessments = [(q.id, q.loc) for q in course.quizzes] + [(t.id, t.loc) for t in course.tasks]
        out += _unique("assessment", sorted(assessments, key=lambda x: x[1]))
    question_ids = [i for quiz in course.quizzes for i in node_memo("question-ids", quiz, lambda quiz=quiz: [q.id for q in quiz.questions])]
    if len(set(question_ids)) < len(question_ids):
        out += _unique("question", [(q.id, q.loc) for quiz in course.quizzes for q in quiz.questions])
    if course.spec:
        sessions = [(s.id, s.field_loc("id")) for s in course.spec.schedule.sessions]
        out += _well_formed("session", sessions) + _unique("session", sessions)
    quizzes_by_module: dict[str, list] = {}
    for quiz in course.quizzes:
        if quiz.module:
            quizzes_by_module.setdefault(quiz.module, []).append(quiz)
    for module_id, quizzes in quizzes_by_module.items():
        for extra in quizzes[1:]:
            out.append(d.diag(d.REF_DUPLICATE, extra.loc, f"module '{module_id}' already has the quiz '{quizzes[0].id}'",
                              "merge the questions into one quiz per module"))
    return out


def _ids_in_module(m) -> list[Diagnostic]:
    objectives = [(o.id, o.field_loc("id")) for o in m.objectives]
    return (_well_formed("objective", objectives) + _unique("objective", objectives)
            + _unique("lesson", [(lesson.id, lesson.loc) for lesson in m.lessons]))


def _assessment_id_well_formed(item) -> list[Diagnostic]:
    return _well_formed("assessment", [(item.id, item.loc)])


@check
def references_resolve(course: Course) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    module_ids = {m.id for m in course.modules}
    task_ids = {t.id for t in course.tasks}
    quiz_ids = {q.id for q in course.quizzes}
    for quiz in course.quizzes:
        if quiz.module and quiz.module not in module_ids:
            out.append(_dangling("module", quiz.module, module_ids, quiz.meta.field_loc("module")))
    for task in course.tasks:
        if task.module and task.module not in module_ids:
            out.append(_dangling("module", task.module, module_ids, task.meta.field_loc("module")))
    for quiz in course.quizzes:
        module = course.module(quiz.module) if quiz.module else None
        out += node_findings("objective-refs", quiz, (module,), lambda quiz=quiz, module=module: _objective_refs(quiz, module))
    spec = course.spec
    if spec is None:
        return out
    session_ids = {s.id for s in spec.schedule.sessions}
    for task in course.tasks:
        if task.meta.presentation and task.meta.presentation not in session_ids:
            out.append(_dangling("session", task.meta.presentation, session_ids, task.meta.field_loc("presentation")))
    for w in spec.schedule.webinars:
        out += [_dangling("module", ref, module_ids, w.field_loc("modules")) for ref in w.modules if ref not in module_ids]
    for s in spec.schedule.self_study:
        out += [_dangling("module", ref, module_ids, s.field_loc("modules")) for ref in s.modules if ref not in module_ids]
    for ms in spec.schedule.milestones:
        if ms.task and ms.task not in task_ids | quiz_ids:
            out.append(_dangling("task", ms.task, task_ids, ms.field_loc("task")))
    cert = spec.certificate
    if cert is not None:
        for field in ("tasks_submitted", "tasks_passed"):
            for ref in getattr(cert, field):
                if ref not in task_ids:
                    out.append(_dangling("task", ref, task_ids, cert.field_loc(field)))
        if isinstance(cert.quizzes_passed, list):
            for ref in cert.quizzes_passed:
                if ref not in quiz_ids:
                    out.append(_dangling("quiz", ref, quiz_ids, cert.field_loc("quizzes_passed")))
    return out


def _objective_refs(quiz, module) -> list[Diagnostic]:
    """The quiz's questions' objectives= that its module does not define."""
    out = []
    objective_ids = {o.id for o in module.objectives} if module else set()
    for q in quiz.questions:
        loc = q.attr_locs.get("objectives", q.loc)
        for ref in q.objectives:
            if module is None and quiz.module is None:
                out.append(d.diag(d.REF_DANGLING, loc, f"objective '{ref}' in a quiz that belongs to no module",
                                  "set 'module:' in the quiz's front matter, or remove objectives="))
            elif module is not None and ref not in objective_ids:
                out.append(_dangling("objective", ref, objective_ids, loc))
    return out
