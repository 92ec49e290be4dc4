"""Groups: empty groups of the project's group size for the expected participants, in the grouping
"Projektgruppen" that the project assignment submits in."""

from __future__ import annotations

import math

from ..backup_xml import NULL, El, el
from .plan import Backup


def plan(b: Backup) -> None:
    project = b.project()
    size = (project.meta.group_size if project and project.meta.group_size else 4)
    count = math.ceil(b.participants / size) if b.participants else 0
    b.groups = [(b.next("group"), b.s["moodle_group"].format(n=n)) for n in range(1, count + 1)]
    b.grouping_id = b.next("grouping")


def groups_xml(b: Backup) -> El:
    root = El("groups")
    for gid, name in b.groups:
        root.add(el("group", {"id": gid}, name=name, idnumber="", description="", descriptionformat=1,
                    enrolmentkey=NULL, picture=0, visibility=0, participation=1, timecreated=b.now,
                    timemodified=b.now).add(El("group_members")))
    root.add(El("groupcustomfields"))
    grouping = el("grouping", {"id": b.grouping_id}, name=b.s["moodle_groups"], idnumber="projektgruppen",
                  description="", descriptionformat=1, configdata=NULL, timecreated=b.now, timemodified=b.now)
    links = El("grouping_groups")
    for gid, _ in b.groups:
        links.add(el("grouping_group", {"id": gid}, groupid=gid, timeadded=b.now))
    grouping.add(links)
    root.add(El("groupings").add(grouping, El("groupingcustomfields")))
    return root
