"""The course as weeks and dated events: what the overview page and the Moodle weekly sections show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .model import AlumniMeeting, Course, Milestone, Module, Session, Webinar


@dataclass
class Week:
    number: int
    start: dt.date
    end: dt.date
    sessions: list[Session] = field(default_factory=list)
    webinars: list[Webinar] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)  # self-study and webinar modules, in course order
    milestones: list[Milestone] = field(default_factory=list)


@dataclass
class Event:
    date: dt.date
    kind: str  # session | webinar | milestone | alumni
    title: str
    time: str = ""
    place: str = ""
    week: int | None = None
    item: Session | Webinar | Milestone | AlumniMeeting | None = None


def weeks(course: Course) -> list[Week]:
    spec = course.spec
    if spec is None:
        return []
    cohort = spec.cohort
    out = [Week(n, cohort.week_start(n), cohort.week_start(n) + dt.timedelta(days=6)) for n in range(1, cohort.weeks + 1)]

    def week(day: dt.date) -> Week | None:
        n = cohort.week_of(day)
        return out[n - 1] if 1 <= n <= len(out) else None

    module_ids: dict[int, set[str]] = {w.number: set() for w in out}
    for s in spec.schedule.sessions:
        if (w := week(s.start)) is not None:
            w.sessions.append(s)
    for wb in sorted(spec.schedule.webinars, key=lambda x: x.date):
        if (w := week(wb.date)) is not None:
            w.webinars.append(wb)
            module_ids[w.number].update(wb.modules)
    for ss in spec.schedule.self_study:
        if ss.week in module_ids:
            module_ids[ss.week].update(ss.modules)
    for ms in sorted(spec.schedule.milestones, key=lambda x: x.date):
        if (w := week(ms.date)) is not None:
            w.milestones.append(ms)
    for w in out:
        w.modules = [m for m in course.modules if m.id in module_ids[w.number]]
    return out


def events(course: Course) -> list[Event]:
    spec = course.spec
    if spec is None:
        return []
    cohort = spec.cohort
    out: list[Event] = []
    for s in spec.schedule.sessions:
        out.append(Event(s.start, "session", s.title, s.time or "", s.place, cohort.week_of(s.start), s))
    for w in spec.schedule.webinars:
        out.append(Event(w.date, "webinar", w.topic, w.time, "", cohort.week_of(w.date), w))
    for m in spec.schedule.milestones:
        out.append(Event(m.date, "milestone", m.title, "", "", cohort.week_of(m.date), m))
    for a in spec.schedule.alumni:
        out.append(Event(a.date, "alumni", a.topic, a.time or "", "", None, a))
    order = {"session": 0, "webinar": 1, "milestone": 2, "alumni": 3}
    return sorted(out, key=lambda e: (e.date, order[e.kind], e.title))
