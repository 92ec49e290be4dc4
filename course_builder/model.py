"""The typed course model: one tree that every check and every target reads.

Every node keeps where it was written (``loc``), and mapping-based nodes also where each of their
fields was written (``field_loc``), so that any later stage can point the author at the source.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SkipValidation, field_validator

from .diagnostics import SourceLoc

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TIME_RANGE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")
UNKNOWN = SourceLoc("<unknown>")


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    loc: SkipValidation[SourceLoc] = Field(default=UNKNOWN, alias="__loc__", exclude=True, repr=False)
    field_locs: SkipValidation[dict] = Field(default_factory=dict, alias="__locs__", exclude=True, repr=False)
    key_locs: SkipValidation[dict] = Field(default_factory=dict, alias="__keylocs__", exclude=True, repr=False)

    def field_loc(self, name: str) -> SourceLoc:
        return self.field_locs.get(name, self.loc)


class Html(BaseModel):
    """Markdown source and its sanitised HTML rendering."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    markdown: str = ""
    html: str = ""

    def __bool__(self) -> bool:
        return bool(self.markdown.strip())


# --- course.yaml --------------------------------------------------------------


class Organiser(Node):
    name: str
    role: str = ""
    url: str = ""


class Cohort(Node):
    run: int = Field(ge=1)
    start: dt.date
    weeks: int = Field(default=12, ge=1, le=104)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.weeks * 7 - 1)

    def week_of(self, day: dt.date) -> int:
        """1-based course week of a date (may be outside 1..weeks)."""
        return (day - self.start).days // 7 + 1

    def week_start(self, week: int) -> dt.date:
        return self.start + dt.timedelta(days=(week - 1) * 7)


class Certificate(Node):
    title: str
    description: str = ""
    quizzes_passed: Union[Literal["all", "none"], list[str]] = "all"
    tasks_submitted: list[str] = Field(default_factory=list)
    tasks_passed: list[str] = Field(default_factory=list)  # graded tasks whose pass_points must be reached
    min_attendance_percent: int = Field(default=0, ge=0, le=100)


def _check_time_range(value: str | None) -> str | None:
    if value is not None and not TIME_RANGE.match(value.strip()):
        raise ValueError("time must be a range like 16:30-18:00")
    return value.strip() if value else value


class TimeRange:
    @staticmethod
    def minutes(value: str) -> tuple[int, int]:
        m = TIME_RANGE.match(value)
        assert m, value
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = int(m.group(3)) * 60 + int(m.group(4))
        return start, end


class AgendaItem(Node):
    """One slot of an in-person session's programme."""

    day: int = Field(default=1, ge=1, le=14)
    time: str
    title: str
    description: str = ""

    check_time = field_validator("time")(_check_time_range)


class Session(Node):
    """An in-person session (kickoff, closing)."""

    id: str
    kind: Literal["kickoff", "closing", "other"] = "other"
    title: str
    start: dt.date
    days: int = Field(default=1, ge=1, le=14)
    place: str = ""
    time: str | None = None
    description: str = ""
    objectives: list[str] = Field(default_factory=list)  # what participants can do after the session
    agenda: list[AgendaItem] = Field(default_factory=list)
    prework: list[str] = Field(default_factory=list)  # what to prepare or bring

    check_time = field_validator("time")(_check_time_range)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)


class Webinar(Node):
    date: dt.date
    time: str
    topic: str
    modules: list[str] = Field(default_factory=list)
    join_url: str = ""
    description: str = ""

    check_time = field_validator("time")(_check_time_range)

    @property
    def minutes(self) -> int:
        start, end = TimeRange.minutes(self.time)
        return max(0, end - start)


class SelfStudy(Node):
    week: int
    modules: list[str]


class Milestone(Node):
    date: dt.date
    title: str
    task: str | None = None


class AlumniMeeting(Node):
    date: dt.date
    time: str | None = None
    topic: str

    check_time = field_validator("time")(_check_time_range)


class Schedule(Node):
    sessions: list[Session] = Field(default_factory=list)
    webinars: list[Webinar] = Field(default_factory=list)
    self_study: list[SelfStudy] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    alumni: list[AlumniMeeting] = Field(default_factory=list)


class ResultsThresholds(Node):
    """course.yaml `checks: results:`: when `course check --results` warns about a question (docs/results.md)."""

    min_attempts: int = Field(default=10, ge=2)  # below this, nothing is claimed about a question
    facility_high: float = Field(default=0.9, gt=0, le=1)  # easier than this: too easy
    facility_low: float = Field(default=0.2, ge=0, lt=1)  # harder than this: too hard
    discrimination_low: float = Field(default=0.2, ge=-1, le=1)  # discrimination index (−1…1) below: weak
    distractor_share: float = Field(default=0.05, ge=0, lt=1)  # a wrong option chosen by fewer: not working
    which_attempts: Literal["all", "first", "last", "best"] = "best"  # Moodle's "attempts to include"


class ChecksConfig(Node):
    """course.yaml `checks:`: warnings switched off for this course, and the item-writing thresholds."""

    disable: list[str] = Field(default_factory=list)
    longest_right_share: float = Field(default=0.5, gt=0, le=1)
    key_pattern_share: float = Field(default=0.6, gt=0, le=1)
    truefalse_share: float = Field(default=0.7, gt=0, le=1)
    essay_overlap: float = Field(default=0.5, gt=0, le=1)
    results: ResultsThresholds = Field(default_factory=ResultsThresholds)


class CourseSpec(Node):
    """What course.yaml holds."""

    id: str
    title: str
    short_name: str = ""
    language: str = "de"
    summary: str = ""
    cohort: Cohort
    study_minutes_per_week: int | None = Field(default=None, ge=1)
    organisers: list[Organiser] = Field(default_factory=list)
    certificate: Certificate | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    glossary: str = "glossary.yaml"
    checks: ChecksConfig = Field(default_factory=ChecksConfig)


# --- modules and lessons ----------------------------------------------------------


class Objective(Node):
    id: str
    text: str


class Source(Node):
    """A work a module draws on, listed as 'Literatur und Quellen' and cited where its model is used."""

    author: str  # people ("Mendelow, A. L.") or an institution ("Bundesagentur für Arbeit")
    year: int | str  # a year, or "laufend" for a continuously updated web resource
    title: str
    publisher: str = ""  # publisher, journal with volume and pages, or issuing institution
    url: str = ""
    note: str = ""  # what the module takes from it


class ModuleSpec(Node):
    """What module.yaml holds."""

    id: str | None = None
    title: str
    order: int | None = None
    summary: str = ""
    objectives: list[Objective] = Field(default_factory=list)
    minutes: int | None = Field(default=None, ge=1)
    pass_mark: float = Field(default=70, ge=0)
    sources: list[Source] = Field(default_factory=list)
    project_work: str = ""  # Markdown: what learners take from this module into their project work


class LessonMeta(Node):
    """A lesson's front matter."""

    title: str
    minutes: int = Field(default=15, ge=1)


class Asset(BaseModel):
    """A file a text refers to (image, media), resolved against the course folder."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)
    src: str  # as written
    path: Path | None  # absolute; None for an external URL
    rel: str  # relative to the course root; "" for an external URL
    loc: SkipValidation[SourceLoc]
    alt: str = ""


class Link(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, defer_build=True)
    href: str
    loc: SkipValidation[SourceLoc]


class Lesson(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    id: str
    title: str
    minutes: int
    body: Html
    headings: list[tuple[str, str]] = Field(default_factory=list)  # (anchor, text)
    words: int = 0
    assets: list[Asset] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    path: Path
    loc: SkipValidation[SourceLoc]


class WorksheetMeta(Node):
    """A worksheet's front matter."""

    title: str
    description: str = ""


class Worksheet(BaseModel):
    """A tool a lesson teaches, as a file learners fill in: written in Markdown, built to DOCX."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    id: str
    title: str
    description: str = ""
    body: Html
    path: Path
    loc: SkipValidation[SourceLoc]

    @property
    def file_name(self) -> str:
        return f"{self.id}.docx"

    def rel(self, course_root: Path) -> str:
        """Where the built file lies in an output, beside its source: modules/NN-slug/worksheets/ID.docx."""
        return self.path.with_suffix(".docx").relative_to(course_root).as_posix()


class Module(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    id: str
    slug: str  # folder name
    order: int
    spec: ModuleSpec
    lessons: list[Lesson]
    path: Path
    loc: SkipValidation[SourceLoc]
    summary: Html = Html()
    project_work: Html = Html()
    worksheets: list[Worksheet] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def objectives(self) -> list[Objective]:
        return self.spec.objectives

    @property
    def pass_mark(self) -> float:
        return self.spec.pass_mark

    @property
    def words(self) -> int:
        return sum(lesson.words for lesson in self.lessons)


# --- questions -------------------------------------------------------------------


class Answer(BaseModel):
    """One option of a choice, short-answer or numerical question, a matching pair or an ordering item."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    text: Html = Html()
    weight: float = 0.0  # percent of the question's points; may be negative for wrong choices
    correct: bool = False
    feedback: Html = Html()
    # numerical
    value: float | None = None
    tolerance: float = 0.0
    # matching: the left side is `text`, the right side `match`; no text = a distractor
    match: Html | None = None
    weight_given: bool = False
    loc: SkipValidation[SourceLoc]


QuestionType = Literal["single", "multiple", "truefalse", "short", "numerical", "matching", "ordering", "essay"]
QUESTION_TYPES: tuple[str, ...] = QuestionType.__args__  # type: ignore[attr-defined]


class Question(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    id: str
    type: QuestionType
    name: str
    text: Html
    points: float = 1.0
    objectives: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)  # Moodle question tags, kept for the question banks
    group: str | None = None  # a pool name for `draw:` besides the objectives
    answers: list[Answer] = Field(default_factory=list)
    hints: list[Html] = Field(default_factory=list)
    feedback: Html = Html()
    correct_feedback: Html = Html()
    partial_feedback: Html = Html()
    incorrect_feedback: Html = Html()
    shuffle: bool = True
    case_sensitive: bool = False
    min_words: int | None = None
    max_words: int | None = None
    assets: list[Asset] = Field(default_factory=list)
    loc: SkipValidation[SourceLoc]
    attr_locs: SkipValidation[dict] = Field(default_factory=dict)

    @property
    def auto_graded(self) -> bool:
        return self.type != "essay"

    @property
    def truth(self) -> bool | None:
        """For true/false: whether the statement is true."""
        for answer in self.answers:
            if answer.correct:
                return answer.text.markdown.strip().lower() in TRUE_WORDS
        return None


TRUE_WORDS = {"wahr", "richtig", "true", "stimmt"}
FALSE_WORDS = {"falsch", "false", "stimmt nicht"}


# --- assessments -------------------------------------------------------------------


class QuizMeta(Node):
    kind: Literal["quiz"]
    id: str | None = None
    module: str | None = None
    title: str
    attempts: int = Field(default=0, ge=0)
    shuffle: bool = True
    pass_mark: float | None = Field(default=None, ge=0)
    minutes: int | None = Field(default=None, ge=1)
    # Item pools: "N from POOL" per entry, POOL an objective id or a question's group=; empty = every question.
    draw: list[str] = Field(default_factory=list)
    # Moodle's review options as the model: when right/wrong markers and per-option feedback are shown.
    feedback: Literal["immediate", "after-attempt", "after-last-attempt"] = "after-attempt"

    @field_validator("draw")
    @classmethod
    def _draw_entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not DRAW_ENTRY.fullmatch(str(entry).strip()):
                raise ValueError(f"'{entry}' is not 'N from POOL', e.g. '2 from ziel-3'")
        return [str(entry).strip() for entry in value]

    @property
    def draws(self) -> list[tuple[int, str]]:
        """(count, pool) for each draw entry."""
        return [(int(m.group(1)), m.group(2)) for m in (DRAW_ENTRY.fullmatch(e) for e in self.draw) if m]


DRAW_ENTRY = re.compile(r"([1-9][0-9]*)\s+from\s+([A-Za-z0-9][A-Za-z0-9_-]*)")


class Criterion(Node):
    text: str
    points: float = Field(ge=0)


class TaskMeta(Node):
    kind: Literal["project", "reflection", "assignment"]  # assignment: a graded task of a module
    id: str | None = None
    module: str | None = None
    title: str
    group_size: int | None = Field(default=None, ge=1, le=20)
    due: dt.date | None = None
    presentation: str | None = None
    minutes: int | None = Field(default=None, ge=1)
    deliverables: list[str] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    pass_points: float | None = Field(default=None, ge=0)  # minimum score of the criteria's points to pass
    questions: list[str] = Field(default_factory=list)


class Quiz(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    id: str
    meta: QuizMeta
    module: str | None
    intro: Html = Html()
    questions: list[Question] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    path: Path
    loc: SkipValidation[SourceLoc]

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def auto_points(self) -> float:
        return sum(q.points for q in self.questions if q.auto_graded)

    def pools(self) -> list[tuple[int, list["Question"]]]:
        """(count, candidates) per draw entry; a question belongs to the first entry whose pool names it.

        Every delivery draws from these same partitions, so a question is never drawn twice in one
        attempt. Without `draw:` there is one pool: every question, every time.
        """
        if not self.meta.draw:
            return [(len(self.questions), list(self.questions))]
        taken: set[str] = set()
        pools = []
        for count, pool in self.meta.draws:
            members = [q for q in self.questions if q.id not in taken and (q.group == pool or pool in q.objectives)]
            taken.update(q.id for q in members)
            pools.append((count, members))
        return pools


class Task(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    id: str
    meta: TaskMeta
    module: str | None
    body: Html = Html()
    assets: list[Asset] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    path: Path
    loc: SkipValidation[SourceLoc]

    @property
    def kind(self) -> str:
        return self.meta.kind

    @property
    def title(self) -> str:
        return self.meta.title


class GlossaryEntry(Node):
    term: str
    definition: str
    avoid: list[str] = Field(default_factory=list)
    forms: list[str] = Field(default_factory=list)  # inflected forms that also count as the term
    link: bool = True  # explain the term where lessons use it (off for words too common to explain)


class Course(BaseModel):
    """The whole course: what the targets compile."""

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)
    spec: CourseSpec | None  # None when course.yaml is unusable: course-level checks then stand aside
    root: Path
    modules: list[Module] = Field(default_factory=list)
    quizzes: list[Quiz] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    glossary: list[GlossaryEntry] = Field(default_factory=list)
    summary: Html = Html()
    # Every prose text with where it starts, for checks that scan wording (terms, placeholders).
    texts: list[tuple[SourceLoc, str]] = Field(default_factory=list)
    _derived: dict = PrivateAttr(default_factory=dict)

    def derived(self, key: str, compute):
        """An index derived from the whole course, computed once (targets render many pages from it)."""
        # The private attribute read directly: pydantic's attribute lookup costs more than the memo
        # saves when targets ask thousands of times per build.
        table = self.__pydantic_private__["_derived"]
        if key not in table:
            table[key] = compute(self)
        return table[key]

    def is_file(self, path: Path) -> bool:
        """path.is_file(), asked once per course object (one load): checks and several targets ask for
        the same media files."""
        known = self.derived("is-file", lambda c: {})
        found = known.get(path)
        if found is None:
            found = known[path] = path.is_file()
        return found

    def derived_for(self, key: str, node, compute):
        """compute() for one node of the course, once per course object (several targets ask for it)."""
        known = self.derived(key, lambda c: {})  # id(node) → (node, value): the node keeps its id alive
        found = known.get(id(node))
        if found is None or found[0] is not node:
            found = known[id(node)] = (node, compute())
        return found[1]

    @property
    def id(self) -> str:
        return self.spec.id if self.spec else "course"

    @property
    def title(self) -> str:
        return self.spec.title if self.spec else ""

    def _grouped(self, name: str, items: list, key) -> dict:
        """items grouped by key(item), in course order; rebuilt when the list is replaced or changes length.

        Checks and targets look up a module's quiz once per module: a scan each time made a
        1,000-module course quadratic."""
        table = self.__pydantic_private__["_derived"]
        cached = table.get(name)
        if cached is None or cached[0] is not items or cached[1] != len(items):
            groups: dict = {}
            for item in items:
                groups.setdefault(key(item), []).append(item)
            cached = table[name] = (items, len(items), groups)
        return cached[2]

    def module(self, module_id: str) -> Module | None:
        found = self._grouped("index:modules", self.modules, lambda m: m.id).get(module_id)
        return found[0] if found else None

    def quiz_for(self, module_id: str) -> Quiz | None:
        found = self._grouped("index:quizzes", self.quizzes, lambda q: q.module).get(module_id)
        return found[0] if found else None

    def tasks_for(self, module_id: str) -> list[Task]:
        return list(self._grouped("index:tasks", self.tasks, lambda t: t.module).get(module_id, ()))

    def webinars_for(self, module_id: str) -> list[Webinar]:
        """The webinars that name the module, in date order."""
        webinars = self.spec.schedule.webinars if self.spec else []
        return sorted((w for w in webinars if module_id in w.modules), key=lambda w: (w.date, w.time))

    def certificate_quizzes(self) -> list[Quiz]:
        """The quizzes the certificate requires: 'all' means every module's quiz (not course-level self-checks)."""
        cert = self.spec.certificate if self.spec else None
        if cert is None or cert.quizzes_passed == "none":
            return []
        if cert.quizzes_passed == "all":
            return [q for q in self.quizzes if q.module is not None]
        return [q for q in self.quizzes if q.id in cert.quizzes_passed]

    def certificate_tasks(self) -> list[Task]:
        cert = self.spec.certificate if self.spec else None
        return [t for t in self.tasks if cert is not None and t.id in cert.tasks_submitted]

    def module_minutes(self, module: Module) -> int:
        if module.spec.minutes:
            return module.spec.minutes
        total = sum(lesson.minutes for lesson in module.lessons)
        total += sum(t.meta.minutes or 0 for t in self.tasks_for(module.id))
        quiz = self.quiz_for(module.id)
        if quiz is not None:
            total += quiz.meta.minutes or 0
        return total
