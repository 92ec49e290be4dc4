"""The course's sections (weekly format): the kickoff as section 0, one section per
week of the schedule, the closing session, the alumni section; each module's activities in its week."""

from __future__ import annotations

import html as htmllib

from .... import player, timeline
from ....model import Module
from ..backup_xml import NULL, El, document, el
from . import assign, calendar, forum, label, page, quiz, replay, scorm
from .plan import Backup
from .records import Section, date, epoch, para, start_end


def plan(b: Backup) -> None:
    spec = b.spec
    sessions = {s.kind: s for s in spec.schedule.sessions}
    kickoff = sessions.get("kickoff")
    summary = para(spec.summary.strip()) if spec.summary.strip() else ""
    # The kickoff is section 0: in the weekly format section N shows week N from the course start,
    # so a section of its own before week 1 would make Moodle mark the wrong week as current.
    general = b.section(session_title(kickoff) if kickoff else None,
                        summary + (session_html(b, kickoff) if kickoff else ""))
    forum.add(b, general, b.s["moodle_announcements"], b.s["moodle_announcements_intro"], "news")
    project = b.project()
    if kickoff:
        session_event(b, kickoff)
        if project:  # the project starts at the kickoff, where the groups form
            assign.add(b, general, project)
            project = None
    placed: set[str] = set()
    for week in timeline.weeks(b.course):
        name = b.s["moodle_week"].format(n=week.number, start=date(week.start), end=date(week.end))
        section = b.section(name, week_summary(b, week))
        if project:
            assign.add(b, section, project)
            project = None
        for webinar in week.webinars:
            label.webinar(b, section, webinar)
        for module in week.modules:
            if module.id not in placed:
                placed.add(module.id)
                add_module(b, section, module)
        for milestone in week.milestones:
            calendar.event(b, f"{b.s['moodle_milestone']}: {milestone.title}", "", epoch(milestone.date), 0)
    for module in b.course.modules:
        if module.id not in placed:  # in no week of the schedule: after the last week, in course order
            placed.add(module.id)
            add_module(b, b.sections[-1], module)
    closing = sessions.get("closing")
    last = b.sections[-1]
    if closing:
        last = b.section(session_title(closing), session_html(b, closing))
        session_event(b, closing)
    for q in b.course.quizzes:
        if q.module is None:  # a course-level quiz (e.g. a final self-check) belongs to no module's week
            quiz.add(b, last, q)
    alumni = b.section(b.s["moodle_alumni"], alumni_html(b))
    forum.add(b, alumni, b.s["moodle_alumni_forum"], b.s["moodle_alumni_forum_intro"], "general")
    for meeting in spec.schedule.alumni:
        start, end = start_end(meeting.time)
        calendar.event(b, f"{b.s['moodle_alumni_meetings']}: {meeting.topic}", "", epoch(meeting.date, start),
              epoch(meeting.date, end) - epoch(meeting.date, start))


def add_module(b: Backup, section: Section, module: Module) -> None:
    replay.module(b, section, module, lambda: _add_module(b, section, module))


def _add_module(b: Backup, section: Section, module: Module) -> None:
    """A module as one SCORM activity (the scorm delivery) or as its Pages and Quiz (native); its graded
    assignments are Moodle assignments either way, graded by the teachers."""
    package = scorm.package_for(b, module)
    if package is not None:
        scorm.add(b, section, module, package)
    else:
        page.add_lessons(b, section, module)
    for task in b.course.tasks_for(module.id):
        if task.kind == "assignment":
            assign.add(b, section, task)
    q = b.course.quiz_for(module.id)
    if package is None and q is not None:  # a SCORM package holds the module's quiz
        quiz.add(b, section, q)


def session_title(session) -> str:
    days = date(session.start) if session.days == 1 else f"{date(session.start)} – {date(session.end)}"
    place = f", {session.place}" if session.place else ""
    return f"{session.title} ({days}{place})"


def session_html(b: Backup, session) -> str:
    parts = [para(session.description.strip())] if session.description.strip() else []
    if session.place:
        parts.append(para(f"{b.s['moodle_place']}: {session.place}"))
    if session.time:
        parts.append(para(b.s["moodle_time"].format(time=session.time.replace("-", "–"))))
    parts.append(str(player.session_details(session, b.s, level=4)))
    return "".join(parts)


def session_event(b: Backup, session) -> None:
    start, end = start_end(session.time)
    first = epoch(session.start, start)
    calendar.event(b, session.title, session_html(b, session), first, epoch(session.end, end) - first,
          location=session.place)


def week_summary(b: Backup, week) -> str:
    parts = []
    if week.modules:
        titles = ", ".join(m.title for m in week.modules)
        parts.append(para(f"{b.s['moodle_self_study']}: {titles}"))
    for milestone in week.milestones:
        parts.append(para(f"{b.s['moodle_milestone']} ({date(milestone.date)}): {milestone.title}"))
    return "".join(parts)


def alumni_html(b: Backup) -> str:
    items = []
    for meeting in b.spec.schedule.alumni:
        when = date(meeting.date) + (f", {b.s['moodle_time'].format(time=meeting.time.replace('-', '–'))}"
                                     if meeting.time else "")
        items.append(f"<li>{htmllib.escape(when, quote=False)}: {htmllib.escape(meeting.topic, quote=False)}</li>")
    if not items:
        return ""
    return f"<h4>{htmllib.escape(b.s['moodle_alumni_meetings'], quote=False)}</h4><ul>{''.join(items)}</ul>"


_EMPTY_INFOREF = document(El("inforef"))


def files(b: Backup) -> dict[str, bytes]:
    out = {}
    for s in b.sections:
        out[f"sections/section_{s.id}/section.xml"] = document(el(
            "section", {"id": s.id}, number=s.number, name=s.name, summary=s.summary, summaryformat=1,
            sequence=",".join(str(a.cmid) for a in s.activities), visible=1, availabilityjson=NULL,
            component=NULL, itemid=NULL, timemodified=b.now))
        out[f"sections/section_{s.id}/inforef.xml"] = _EMPTY_INFOREF
    return out
