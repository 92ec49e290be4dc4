"""Incremental planning: what one module adds to the backup, kept in the cache and replayed.

A module's part of the backup (its SCORM activity, or its Pages and Quiz, and its assignments) is a
function of the module, its tasks and quiz, the course frame, the delivery, the Moodle version (module.xml's
version, the questions' context) and the ids it starts from. The key holds all of them, the id counters included, so a hit replays exactly what a cold
run would add: the same counters after it, the same activities with their folders' XML already
written, the same file records and calendar events. After an edit of one lesson only that module
is planned again; a change that shifts ids (a question more) misses for the modules after it.
"""

from __future__ import annotations

import copy
import pickle
import weakref
from typing import Callable

from .... import player
from ....units import fingerprint, runtime_fingerprint
from ....worksheets import worksheet_inputs
from .plan import Backup
from .records import Section

NAMESPACE = "mbz-module"


def module(b: Backup, section: Section, mod, add: Callable[[], None]) -> None:
    """Run add() (which plans mod into section), or replay what it added when its inputs are unchanged."""
    if not b.cache.enabled:
        add()
        return
    course = b.course
    quiz = course.quiz_for(mod.id)
    # The module page's and worksheets' inputs are those of its SCORM package; the frame is read besides.
    counters = ";".join(f"{k}={v}" for k, v in sorted(b.counters.items()))  # one string: cheap to compare
    inputs = (_frame(b), section.id, section.number, counters, player.page_inputs(course, mod),
              [worksheet_inputs(course, mod, sheet) for sheet in mod.worksheets], _question_ids(b, quiz))
    # A long-running process finds the last build's entry by the inputs' identity (liveunits.py) and
    # skips fingerprinting them; replay() copies what the rest of the backup changes.
    live = b.cache.live
    found = live.result(NAMESPACE, inputs) if live is not None else None
    if found is None:
        key = b.cache.key(NAMESPACE, runtime_fingerprint(), fingerprint(course, *inputs))
        found = _unpickled(b.cache.get(NAMESPACE, key))
        if not isinstance(found, Added):
            start = Added.mark(b)
            add()
            found = Added.since(b, start)
            b.cache.put(NAMESPACE, key, pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
            if live is not None:
                live.keep_result(NAMESPACE, inputs, found)
            return
        if live is not None:
            live.keep_result(NAMESPACE, inputs, found)
    found.replay(b, section)


def _unpickled(data: bytes | None):
    try:
        return None if data is None else pickle.loads(data)
    except Exception:  # an entry of another Python or a damaged one is a miss
        return None


_FRAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _frame(b: Backup) -> str:
    """What every module's part is made with besides its own sources — the Moodle version, delivery,
    ids fixed before the sections are planned (the question categories' among them), the course frame,
    every task (the closing page points at the project), the certificate rule — fingerprinted once per
    backup."""
    found = _FRAMES.get(b)
    if found is None:
        course = b.course
        found = _FRAMES[b] = fingerprint(
            course, b.version.name, b.questions_context.contextid, b.delivery, b.now, b.grade_categories,
            b.grouping_id, b.groups, course.spec, course.summary, course.glossary, course.tasks,
            [q.id for q in course.certificate_quizzes()], sorted(b.category_ids.items()))
    return found


def _question_ids(b: Backup, quiz) -> list:
    """The bank ids a native quiz refers to (its questions; the categories' are in the frame): planned
    before the sections."""
    if quiz is None:
        return []
    by_quiz = _QUESTION_IDS.get(b)
    if by_quiz is None:  # once per backup: a scan of every category per module would be quadratic
        by_quiz = _QUESTION_IDS[b] = {}
        for c in b.bank.categories:
            by_quiz.setdefault(id(c.quiz), []).extend(b.question_ids.get(id(q)) for q in c.questions)
    return by_quiz.get(id(quiz), [])


_QUESTION_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Added:
    """What one add() appended to the backup; activities carry their written XML instead of their bodies."""

    def __init__(self, counters, activities, files, events, completion):
        self.counters, self.activities, self.files = counters, activities, files
        self.events, self.completion = events, completion

    @staticmethod
    def mark(b: Backup) -> tuple[int, int, int, int]:
        return len(b.activities), len(b.files), len(b.events), len(b.completion_cms)

    @classmethod
    def since(cls, b: Backup, start: tuple[int, int, int, int]) -> "Added":
        from . import activity, files

        activities = []
        for a in b.activities[start[0]:]:
            activity.write_documents(b, a)  # module.xml, <mod>.xml, inforef.xml: fixed once planned
            stored = copy.copy(a)
            stored.section, stored.body = None, None
            activities.append(stored)
        for record in b.files[start[1]:]:
            files.record_xml(b, record)
        completion = [b.activities.index(a) - start[0] for a in b.completion_cms[start[3]:]]
        return cls(dict(b.counters), activities, b.files[start[1]:], b.events[start[2]:], completion)

    def replay(self, b: Backup, section: Section) -> None:
        b.counters = dict(self.counters)
        for stored in self.activities:
            a = copy.copy(stored)
            a.section = section
            a.grade_items = [copy.copy(g) for g in stored.grade_items]  # the gradebook numbers them
            section.activities.append(a)
            b.activities.append(a)
        new = b.activities[len(b.activities) - len(self.activities):]
        b.files.extend(self.files)
        b.events.extend(self.events)
        b.completion_cms.extend(new[i] for i in self.completion)
