"""What the preview serves: the last good course model, and each module's page as its SCORM 1.2 package shows it.

A rebuild loads the whole course again through `load_course` (the one place the preview loads), but a
module's page is rendered again only when the module's revision changed: a hash of everything its
page is made of (the course settings, the module, its quiz and tasks, the media files it shows, and,
if it links to other pages, where those pages are). Pages are rendered when first asked for, so a
course with many modules starts at once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .. import check, player
from ..diagnostics import Diagnostic
from ..model import Course, Module, Worksheet
from ..targets.scorm import mastery_score, runtime_files, sco_context
from ..units import fingerprint
from ..warm import WarmState

# The preview serves a SCORM 1.2 package's tree below /sco/: <module>/index.html, assets/, files/.
LMS = "scorm12"


def load_course(root: Path, warm: WarmState | None = None) -> tuple[Course, list[Diagnostic]]:
    """Load and check the course: the one place the preview reads the sources. Raises loader.NotACourse.

    With the preview's warm state (and its cache) only the files saved since the last rebuild are read
    and parsed again."""
    return check(root, warm=warm)


def _structure(course: Course) -> str:
    """Which source file is which page of which module: what links between pages resolve against."""
    rows = [f"{m.id}\0lesson-{lesson.id}\0{lesson.path}" for m in course.modules for lesson in m.lessons]
    rows += [f"{q.module}\0quiz\0{q.path}" for q in course.quizzes]
    rows += [f"{t.module}\0task-{t.id}\0{t.path}" for t in course.tasks]
    return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def _links_to_pages(course: Course, module: Module) -> bool:
    links = [link for lesson in module.lessons for link in lesson.links]
    quiz = course.quiz_for(module.id)
    if quiz is not None:
        links += quiz.links
    links += [link for task in course.tasks_for(module.id) for link in task.links]
    return any(".md" in link.href for link in links)


def revision(course: Course, module: Module, structure: str) -> str:
    """A hash of every input of the module's page (the media it shows by content); equal revisions give
    the same page. The build cache's fingerprints: unchanged nodes are not hashed again (nodememo.py)."""
    return fingerprint(course, course.spec, module, course.quiz_for(module.id), course.tasks_for(module.id),
                       structure if _links_to_pages(course, module) else "")[:16]


@dataclass
class Snapshot:
    """One good (error-free) state of the course and the pages rendered from it."""

    course: Course
    revisions: dict[str, str]  # module id → revision
    assets: dict[str, Path] = field(default_factory=dict)  # files/<rel> the pages may load → file
    _pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # module id → (revision, page)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, course: Course, previous: Snapshot | None = None) -> Snapshot:
        structure = _structure(course)
        revisions = {m.id: revision(course, m, structure) for m in course.modules}
        assets = {a.rel: a.path for m in course.modules for a in player.module_assets(course, m)}
        snap = cls(course, revisions, assets)
        if previous is not None:  # pages whose inputs did not change are kept as they are
            snap._pages = {mid: page for mid, page in previous._pages.items() if revisions.get(mid) == page[0]}
        return snap

    def worksheet(self, rel: str) -> tuple[Module, Worksheet] | None:
        """The module and worksheet whose built file lies at rel (files/<rel> in a package)."""
        return next(((m, w) for m in self.course.modules for w in m.worksheets if w.rel(self.course.root) == rel), None)

    def changed_since(self, previous: Snapshot | None) -> list[str]:
        """Modules whose page differs from the previous snapshot's (added and changed ones; removed ones too)."""
        before = previous.revisions if previous else {}
        ids = set(before) | set(self.revisions)
        return sorted(mid for mid in ids if before.get(mid) != self.revisions.get(mid))

    def rendered(self) -> list[str]:
        return list(self._pages)

    def page(self, module_id: str) -> bytes | None:
        """The module's page, rendered now if its revision has none yet; None for an unknown module."""
        module = self.course.module(module_id)
        if module is None:
            return None
        rev = self.revisions[module_id]
        with self._lock:  # pages are asked for from several request threads; render each once
            cached = self._pages.get(module_id)
            if cached is None or cached[0] != rev:
                cached = (rev, player.render_module(self.course, module, sco_context(LMS)).encode("utf-8"))
                self._pages[module_id] = cached
        return cached[1]

    def modules(self) -> list[dict]:
        return [{"id": m.id, "title": m.title, "revision": self.revisions[m.id],
                 "masteryScore": mastery_score(self.course, m) or ""} for m in self.course.modules]


def runtime_file(name: str) -> bytes | None:
    """learner.js / learner.css as the packages carry them (minified, the same bytes)."""
    return runtime_files().get(f"assets/{name}")
