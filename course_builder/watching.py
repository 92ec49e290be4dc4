"""Watching the course folder (`course preview`, `course build --watch`): which changes are course
sources, and the loop that hands them on."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Awaitable, Callable

from watchfiles import Change, awatch

from .model import Course

# watchfiles groups the events of one save: it yields once nothing happened for STEP_MS (at most DEBOUNCE_MS).
STEP_MS = 30
DEBOUNCE_MS = 1600
# Editors' temporary and backup files (vim swap and probe files, emacs locks, `file~`).
EDITOR_FILES = re.compile(r"(\.sw[a-p]x?|~|\.tmp|\.bak)$|^(\.#|#.*#$|4913$)")
SOURCE_FOLDERS = ("modules", "assessments")


class SourceFilter:
    """True for a path the course is made of: course.yaml, the glossary, modules/, assessments/, media.

    Anything else in the folder (build outputs, the cache, a repository's code, dot-files, editor
    temporaries) does not start a rebuild. `extra` gives the current model's other top-level
    files and folders (e.g. a shared media/ folder) and is asked on every change.
    """

    def __init__(self, root: Path, extra: Callable[[], set[str]]):
        self.root = root
        self.extra = extra

    def __call__(self, change: Change, path: str) -> bool:
        try:
            parts = Path(path).relative_to(self.root).parts
        except ValueError:
            return False
        if not parts or any(part.startswith(".") for part in parts) or EDITOR_FILES.search(parts[-1]):
            return False
        return parts[0] in SOURCE_FOLDERS or parts[0] == "course.yaml" or parts[0] in self.extra()


async def watch(root: Path, accept: SourceFilter, on_change: Callable[[set[str]], Awaitable[None]],
                on_problem: Callable[[str], None], stop: asyncio.Event) -> None:
    """Call on_change with the changed paths after every save, until stop is set.

    If the folder cannot be watched (it was renamed or deleted), say so once and wait for it to come
    back, then rebuild: the course may have changed meanwhile.
    """
    while not stop.is_set():
        if root.is_dir():
            try:
                async for changes in awatch(root, watch_filter=accept, step=STEP_MS, debounce=DEBOUNCE_MS,
                                            stop_event=stop, ignore_permission_denied=True):
                    await on_change({path for _, path in changes})
                    if not root.is_dir():
                        break
            except (OSError, RuntimeError) as exc:
                on_problem(f"cannot watch {root}: {exc}")
        if stop.is_set():
            return
        on_problem(f"{root} is gone; waiting for it to come back")
        while not root.is_dir():
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
                return
            except TimeoutError:
                pass
        await on_change({str(root)})


def source_names(course: Course) -> set[str]:
    """The glossary's and every referenced file's top-level name in the course folder (files present or not)."""
    rels = [a.rel for m in course.modules for lesson in m.lessons for a in lesson.assets]
    rels += [a.rel for quiz in course.quizzes for q in quiz.questions for a in q.assets]
    rels += [a.rel for task in course.tasks for a in task.assets]
    glossary = course.spec.glossary if course.spec else "glossary.yaml"
    return {Path(glossary).parts[0], *(rel.split("/", 1)[0] for rel in rels if rel)}
