"""The course's calendar events (sessions, webinars, milestones, alumni meetings, due dates), written to
course/calendar.xml."""

from __future__ import annotations

from ..backup_xml import NULL, el
from .plan import Backup
from .records import COURSE_ID


def event(b: Backup, name: str, description: str, timestart: int, duration: int, location: str = "") -> None:
    b.events.append(el("event", {"id": b.next("event")},
                       name=name, description=description, format=1, courseid=COURSE_ID, groupid=0,
                       userid=0, repeatid=0, modulename="", instance=0, type=0, eventtype="course",
                       timestart=timestart, timeduration=duration, timesort=NULL, visible=1, uuid="",
                       sequence=1, timemodified=b.now, priority=NULL, location=location))
