"""The backup's plan: ids for every part of the course, in the order Moodle's restore expects them.

`Backup` holds what the parts share (id counters, sections, activities, file records, calendar
events, the question bank); the part modules (sections, label, forum, page, quiz, scorm, assign, …)
add to it, and `entries()` asks each part for its files. Ids are small consecutive numbers (restore
maps them all) and every timestamp is the cohort's start, so two builds are byte-identical.
"""

from __future__ import annotations

from ....cache import NO_CACHE, Cache
from ....i18n import strings
from ....model import Course, Quiz, Task
from ..backup_xml import El
from .. import scorm_seam
from ..bank import Bank, bank
from .records import COURSE_CONTEXT, COURSE_ID, Activity, FileRecord, Section, epoch
from .versions import CONTEXT_COURSE, DEFAULT, Profile, QuestionsContext


class Backup:
    """Plans ids for every part of the course, then writes the files of the backup."""

    def __init__(self, course: Course, delivery: str, participants: int, cache: Cache = NO_CACHE,
                 questions: str = "used", version: Profile = DEFAULT):
        from . import groups, qbank, questions as question_part, sections  # the parts import Backup for their signatures

        self.course = course
        self.version = version
        self.cache = cache
        self.spec = course.spec
        self.delivery = delivery
        self.participants = max(0, participants)
        self.questions = questions  # "used": what the quizzes ask or draw from; "all": the whole bank
        self.s = strings(self.spec.language if self.spec else "de")
        self.now = epoch(self.spec.cohort.start)
        self.counters: dict[str, int] = {}
        self.sections: list[Section] = []
        self.files: list[FileRecord] = []
        self.events: list[El] = []
        self.activities: list[Activity] = []
        if questions == "all":
            self.bank: Bank = bank(course)
        else:  # only the quizzes' questions are made: in the SCORM delivery that skips the modules' quizzes
            quizzes = self.quizzes()
            self.bank = question_part.carried(bank(course, quizzes), quizzes)
        self.question_ids: dict[int, int] = {}  # id(MoodleQuestion) → question (and bank entry) id
        self.category_ids: dict[str, int] = {}
        self.grade_categories: dict[str, int] = {}
        self.groups: list[tuple[int, str]] = []
        self.grouping_id = 0
        self.completion_cms: list[Activity] = []
        # On 5.x the bank activity's context owns the questions: reserved first, placed once section 0 exists.
        self.questions_context = (qbank.plan(self) if version.qbank_module
                                  else QuestionsContext(COURSE_CONTEXT, CONTEXT_COURSE, COURSE_ID))
        self._plan_questions()
        self.grade_categories = {"course": self.next("grade_category")}
        self.grade_categories["quizzes"] = self.next("grade_category")
        self.grade_categories["project"] = self.next("grade_category")
        if any(t.kind == "assignment" for t in self.course.tasks):
            self.grade_categories["assignments"] = self.next("grade_category")
        groups.plan(self)
        sections.plan(self)
        if version.qbank_module:
            qbank.place(self, self.sections[0])

    def next(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def _plan_questions(self) -> None:
        self.category_ids["top"] = self.next("question_category")
        self.category_ids["course"] = self.next("question_category")
        for cat in self.bank.categories:
            self.category_ids[cat.idnumber] = self.next("question_category")
            for q in cat.questions:
                self.question_ids[id(q)] = self.next("question")

    def quizzes(self) -> list[Quiz]:
        """The quizzes that become Moodle quizzes: every one in the native delivery, only the course-level
        ones (a final self-check) in the SCORM delivery, where a module's package holds its quiz."""
        scorm = self.delivery == "scorm" and scorm_seam.available()
        quizzes = [] if scorm else [self.course.quiz_for(m.id) for m in self.course.modules]
        return [q for q in quizzes if q is not None] + [q for q in self.course.quizzes if q.module is None]

    def project(self) -> Task | None:
        return next((t for t in self.course.tasks if t.kind == "project"), None)

    def section(self, name: str | None, summary: str = "") -> Section:
        section = Section(self.next("section"), len(self.sections), name, summary)
        self.sections.append(section)
        return section

    def activity(self, modname: str, section: Section, title: str, body_leaves: dict) -> Activity:
        cmid = self.next("cm")
        instance = self.next(f"instance_{modname}")
        contextid = COURSE_CONTEXT + cmid
        body = El(modname, {"id": instance}).leaves(**body_leaves)
        activity = Activity(modname, cmid, instance, contextid, section, title, body)
        section.activities.append(activity)
        self.activities.append(activity)
        return activity

    def certificate_needs(self, task: Task) -> bool:
        return any(t is task for t in self.course.certificate_tasks())

    def certificate_needs_pass(self, task: Task) -> bool:
        cert = self.course.spec.certificate if self.course.spec else None
        return cert is not None and task.id in cert.tasks_passed and task.meta.pass_points is not None
