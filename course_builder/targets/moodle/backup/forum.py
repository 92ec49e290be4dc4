"""Forums: the announcements (news) forum in section 0 and the alumni forum."""

from __future__ import annotations

from ..backup_xml import El
from .plan import Backup
from .records import Activity, Section, para


def add(b: Backup, section: Section, name: str, intro: str, kind: str) -> Activity:
    a = b.activity("forum", section, name, dict(
        type=kind, name=name, intro=para(intro), introformat=1, duedate=0, cutoffdate=0, assessed=0,
        assesstimestart=0, assesstimefinish=0, scale=0, maxbytes=0, maxattachments=1,
        forcesubscribe=1 if kind == "news" else 0, trackingtype=1, rsstype=0, rssarticles=0,
        timemodified=b.now, warnafter=0, blockafter=0, blockperiod=0, completiondiscussions=0,
        completionreplies=0, completionposts=0, displaywordcount=0, lockdiscussionafter=0, grade_forum=0))
    a.body.add(*(El(tag) for tag in ("discussions", "subscriptions", "digests", "readposts", "trackedprefs",
                                     "poststags", "grades")))
    return a
