"""Quizzes: a module's quiz (native delivery) or a course-level quiz; fixed slots for its questions, or N
random slots per item pool (`draw:`) that draw from the pool's category."""

from __future__ import annotations

import json

from ....model import Quiz
from ..backup_xml import NULL, El, el
from . import grades
from .questions import asked
from .plan import Backup
from .records import COMPLETION_AUTOMATIC, Activity, Section

# When Moodle shows a review item (mod_quiz\question\display_options): during the attempt, within two
# minutes after it, later while the quiz is open, after it closes (never, without a close date).
DURING, IMMEDIATELY_AFTER, LATER_WHILE_OPEN, AFTER_CLOSE = 0x10000, 0x01000, 0x00100, 0x00010
AFTER = IMMEDIATELY_AFTER | LATER_WHILE_OPEN | AFTER_CLOSE
ALWAYS = DURING | AFTER


def review_options(policy: str) -> dict:
    """The quiz's `feedback:` policy as Moodle's behaviour and review options (docs/moodle.md).

    Right/wrong, the marks (a question's mark tells right from wrong) and specific/general feedback
    follow the policy; the learner's grade stays visible in the gradebook. The right answer itself only
    after the quiz closes, in every policy, as the runtime never shows it (a second attempt would copy
    it). after-last-attempt has no exact Moodle equivalent: its nearest is "after the quiz is closed",
    so the teacher sets a close date."""
    shown = {"immediate": ALWAYS, "after-attempt": AFTER, "after-last-attempt": AFTER_CLOSE}[policy]
    return dict(preferredbehaviour="immediatefeedback" if policy == "immediate" else "deferredfeedback",
                reviewattempt=ALWAYS, reviewcorrectness=shown, reviewmaxmarks=ALWAYS,
                reviewmarks=shown, reviewspecificfeedback=shown,
                reviewgeneralfeedback=shown, reviewrightanswer=AFTER_CLOSE, reviewoverallfeedback=AFTER)


def random_filter(category_id: int) -> str:
    """A random slot's filtercondition as Moodle 4.3+ stores it: any question of one category
    (restore maps the category id inside it to the restored category)."""
    return json.dumps({"filter": {"category": {"jointype": 1, "values": [category_id],
                                               "filteroptions": {"includesubcategories": False}}}},
                      separators=(",", ":"))


def add(b: Backup, section: Section, quiz: Quiz) -> Activity:
    cat, questions, pools = asked(b.bank, quiz)
    # Item pools: N random slots per pool's category; a slot's mark is the pool's average (Moodle
    # scales the drawn question's to it). Questions no pool takes are not asked (as elsewhere).
    slots = [(None, q.default_mark) for q in questions] if not pools else [
        (p.idnumber, sum(q.default_mark for q in p.questions) / len(p.questions))
        for p in pools if p.questions for _ in range(p.draw)]
    sumgrades = sum(mark for _, mark in slots)
    module = b.course.module(quiz.module) if quiz.module else None
    pass_mark = quiz.meta.pass_mark if quiz.meta.pass_mark is not None else (module.pass_mark if module else 0.0)
    required = any(q is quiz for q in b.course.certificate_quizzes())
    a = b.activity("quiz", section, quiz.title, dict(
        name=quiz.title, intro=quiz.intro.html, introformat=1, timeopen=0, timeclose=0,
        timelimit=0, overduehandling="autosubmit", graceperiod=86400,
        canredoquestions=0, attempts_number=quiz.meta.attempts,
        attemptonlast=0, grademethod=1, decimalpoints=2, questiondecimalpoints=-1,
        **review_options(quiz.meta.feedback), questionsperpage=1, navmethod="free",
        shuffleanswers=int(quiz.meta.shuffle),
        sumgrades=f"{sumgrades:.5f}", grade="100.00000", timecreated=b.now, timemodified=b.now,
        password="", subnet="", browsersecurity="", delay1=0, delay2=0, showuserpicture=0, showblocks=0,
        completionattemptsexhausted=0, completionminattempts=0, allowofflineattempts=0))
    a.body.add(El("subplugin_quizaccess_seb_quiz"), El("quiz_grade_items"))
    instances = El("question_instances")
    fixed = iter(questions)
    for slot, (pool_key, mark) in enumerate(slots, 1):
        if pool_key is None:
            ref = el("question_reference", {"id": b.next("question_reference")}, usingcontextid=a.contextid,
                     component="mod_quiz", questionarea="slot",
                     questionbankentryid=b.question_ids[id(next(fixed))], version=NULL)
        else:
            ref = el("question_set_reference", {"id": b.next("question_set_reference")},
                     usingcontextid=a.contextid, component="mod_quiz", questionarea="slot",
                     questionscontextid=b.questions_context.contextid,
                     filtercondition=random_filter(b.category_ids[pool_key]))
        instances.add(el("question_instance", {"id": b.next("slot")}, quizid=a.instance, slot=slot, page=slot,
                         displaynumber=NULL, requireprevious=0, maxmark=f"{mark:.7f}",
                         quizgradeitemid=NULL).add(ref))
    a.body.add(instances)
    a.body.add(El("sections").add(el("section", {"id": b.next("quiz_section")}, firstslot=1, heading="",
                                     shufflequestions=0)))
    a.body.add(*(El(tag) for tag in ("feedbacks", "overrides", "grades", "attempts")))
    a.grade_items = [grades.item(b, "quizzes", quiz.title, "quiz", a.instance, 100.0, float(pass_mark))]
    if pass_mark > 0:
        a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0, completionpassgrade=1)
    else:
        a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0)
    a.question_categories = [b.category_ids["top"], b.category_ids["course"]]
    if cat is not None:
        a.question_categories.append(b.category_ids[cat.idnumber])
        a.question_categories += [b.category_ids[p.idnumber] for p in pools]
    if required:
        b.completion_cms.append(a)
    return a
