"""The planned parts of a backup (sections, activities, file records, grade items) and the small helpers
every part writer shares: ids of the fixed contexts, timestamps, dates, paragraphs."""

from __future__ import annotations

import datetime as dt
import hashlib
import html as htmllib
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

from ..backup_xml import El

TIMEZONE = ZoneInfo("Europe/Berlin")
COURSE_ID, SYSTEM_CONTEXT, COURSE_CONTEXT = 1, 1, 2
STUDENT_ROLE = 5
# Moodle's completion constants.
COMPLETION_AUTOMATIC = 2
CRITERIA_ACTIVITY = 4
AGGREGATION_ALL = 1


def epoch(day: dt.date, hhmm: str = "00:00") -> int:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return int(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIMEZONE).timestamp())


def start_end(time_range: str | None) -> tuple[str, str]:
    if not time_range:
        return "09:00", "17:00"
    start, end = (p.strip() for p in time_range.split("-"))
    return start, end


def date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def para(value: str) -> str:
    return f"<p>{htmllib.escape(value, quote=False)}</p>"


@dataclass
class FileRecord:
    id: int
    contextid: int
    component: str
    filearea: str
    itemid: int
    filepath: str
    filename: str  # "." for a folder record
    content: bytes = b""
    xml: str | None = None  # its <file> element in files.xml, once written

    @cached_property
    def sha1(self) -> str:  # files.xml, the blob's name and the SCORM package's hash each need it
        return hashlib.sha1(self.content).hexdigest()

    @property
    def is_folder(self) -> bool:
        return self.filename == "."


@dataclass
class Section:
    id: int
    number: int
    name: str | None
    summary: str = ""
    activities: list["Activity"] = field(default_factory=list)


@dataclass
class GradeItem:
    id: int
    categoryid: int | None
    itemname: str | None
    itemtype: str
    itemmodule: str | None
    iteminstance: int | None
    itemnumber: int | None
    grademax: float
    gradepass: float = 0.0
    sortorder: int = 0
    idnumber: str | None = ""


@dataclass
class Activity:
    modname: str
    cmid: int
    instance: int
    contextid: int
    section: Section
    title: str
    body: El  # the <modname id=…> element inside <activity>
    completion: dict = field(default_factory=dict)  # module.xml overrides
    grade_items: list[GradeItem] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    groupingid: int = 0
    groupmode: int = 0
    groups: list[int] = field(default_factory=list)
    question_categories: list[int] = field(default_factory=list)
    documents: dict[str, bytes] | None = None  # module.xml, <mod>.xml, inforef.xml once written

    @property
    def directory(self) -> str:
        return f"activities/{self.modname}_{self.cmid}"
