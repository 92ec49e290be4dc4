"""Labels: a webinar's date, topic and join link on the course page of its week."""

from __future__ import annotations

import html as htmllib

from . import calendar
from .plan import Backup
from .records import Activity, Section, date, epoch, para, start_end


def add(b: Backup, section: Section, html: str, name: str) -> Activity:
    short = name if len(name) <= 50 else name[:50] + "..."
    return b.activity("label", section, short, dict(name=short, intro=html, introformat=1, timemodified=b.now))


def webinar(b: Backup, section: Section, webinar) -> None:
    start, end = start_end(webinar.time)
    when = f"{date(webinar.date)}, {b.s['moodle_time'].format(time=webinar.time.replace('-', '–'))}"
    title = f"{b.s['moodle_webinar']}: {webinar.topic}"
    if webinar.join_url:
        url = htmllib.escape(webinar.join_url, quote=True)
        join = f'<p>{b.s["moodle_webinar_join"]}: <a href="{url}">{url}</a></p>'
    else:
        join = para(b.s["moodle_webinar_join_later"])
    description = para(webinar.description.strip()) if webinar.description.strip() else ""
    # Blocks on their own lines: Moodle derives the label's name from its text with the tags stripped.
    html = "\n".join(part for part in (f"<h4>{htmllib.escape(title, quote=False)}</h4>", para(when), description, join)
                     if part)
    add(b, section, html, title)
    calendar.event(b, title, description + join, epoch(webinar.date, start),
          epoch(webinar.date, end) - epoch(webinar.date, start), location=webinar.join_url)
