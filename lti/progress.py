"""A learner's progress row: the one rule by which every write changes it, and the trail of those writes.

Two writers change a row: the page's save (PUT /lti/state, lti/learner.py) and a graded quiz attempt
(POST /lti/attempt, lti/attempts.py). Both go through `record`:

- What the gradebook sees only ever rises: best score, completion, success, and the progress fraction.
  A stale save from a page opened before a later attempt, or a relaunch that starts from an empty
  state, cannot lower them; the refused values are kept in the trail so a teacher can see they came.
- Location, page state and the last attempt's per-question results are the latest write's.
- A score is queued for the platform exactly when the score or the completion it is sent with changed,
  so the tool's row and what it sent (the outbox, lti/ags.py) stay equal.
- Every write that changed a gradebook field or was refused one gets a ProgressChange row (who, from
  which launch, what before → after), in the same transaction as the row and the queued score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import ags
from .db import Launch, Progress, ProgressChange, now

# Rank of each value: a write may raise a field, never lower it. Unknown stored values rank lowest.
COMPLETION_RANK = {"incomplete": 0, "completed": 1}
SUCCESS_RANK = {"unknown": 0, "failed": 1, "passed": 2}
GRADEBOOK_FIELDS = ("progress", "completion", "success", "score")
LATEST_FIELDS = ("location", "state", "interactions")


def _rank(name: str, value):
    """A comparable rank of a gradebook field's value; None (no score yet) ranks below every score."""
    if name == "completion":
        return COMPLETION_RANK.get(value, -1)
    if name == "success":
        return SUCCESS_RANK.get(value, -1)
    return -1.0 if value is None else float(value)


@dataclass
class Merge:
    changes: dict = field(default_factory=dict)  # gradebook field → [before, after]
    kept: dict = field(default_factory=dict)  # gradebook field → [stored, offered lower value]

    @property
    def gradebook_changed(self) -> bool:
        return "score" in self.changes or "completion" in self.changes


def merge(row: Progress, offered: dict) -> Merge:
    """Apply `offered` (any of GRADEBOOK_FIELDS and LATEST_FIELDS) to the row by the monotone rule."""
    result = Merge()
    for name in LATEST_FIELDS:
        if name in offered:
            setattr(row, name, offered[name])
    for name in GRADEBOOK_FIELDS:
        if name not in offered:
            continue
        stored, value = getattr(row, name), offered[name]
        if _rank(name, value) > _rank(name, stored):
            setattr(row, name, value)
            result.changes[name] = [stored, value]
        elif _rank(name, value) < _rank(name, stored):
            result.kept[name] = [stored, value]
    row.updated_at = now()
    return result


def record(session: Session, launch: Launch, row: Progress, offered: dict, source: str,
           column: dict | None, added: dict | None = None) -> bool:
    """Merge `offered` into the learner's row, queue the score if the gradebook's view changed, and
    add the write to the trail (caller commits). True if a score was queued. added: what the write
    added besides the row (a quiz attempt: {"attempts": [before, after]}), for the trail."""
    result = merge(row, offered)
    result.changes = {**(added or {}), **result.changes}
    queued = None
    if result.gradebook_changed and row.score is not None:
        queued = ags.enqueue(session, launch, row.score, row.completion == "completed", column=column)
    if result.changes or result.kept:
        session.add(ProgressChange(platform_id=row.platform_id, resource_link_id=row.resource_link_id,
                                   user_id=row.user_id, actor_id=launch.user_id, launch_id=launch.id,
                                   source=source, changes=result.changes, kept=result.kept,
                                   gradebook=row.score if queued is not None else None, created_at=now()))
    return queued is not None


def progress_for(session: Session, record) -> Progress:
    """The learner's row in this placement, made if missing (caller commits)."""
    row = session.scalar(select(Progress).where(Progress.platform_id == record.platform_id,
                                                Progress.resource_link_id == record.resource_link_id,
                                                Progress.user_id == record.user_id))
    if row is None:
        row = Progress(platform_id=record.platform_id, resource_link_id=record.resource_link_id,
                       user_id=record.user_id, context_id=record.context_id, module_id=record.module_id,
                       progress=0.0, completion="incomplete", success="unknown", interactions=[])
        session.add(row)
    return row


def trail(session: Session, platform_id: int, resource_link_id: str, user_id: str | None = None,
          leave_out: set[str] = frozenset(), limit: int = 200) -> list[ProgressChange]:
    """The newest writes of a placement (of one learner if `user_id`; none of `leave_out`), newest first."""
    query = select(ProgressChange).where(ProgressChange.platform_id == platform_id,
                                         ProgressChange.resource_link_id == resource_link_id)
    if user_id is not None:
        query = query.where(ProgressChange.user_id == user_id)
    if leave_out:
        query = query.where(ProgressChange.user_id.not_in(leave_out))
    return session.scalars(query.order_by(ProgressChange.id.desc()).limit(limit)).all()
