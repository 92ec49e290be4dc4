"""The preview learner's attempts: what the stand-in LMS committed per module, kept across reloads and restarts.

In memory, and in `<cache dir>/preview/attempts.json` (written atomically), so a reload of the tab or
a new `course preview` resumes where the designer left off; "reset attempt" forgets a module's.
An attempt is the SCORM 1.2 data model as flat element → value strings, plus a revision counter:
the page writes with rev + 1, and an older write (a request that arrived late) never replaces a newer
one. A reset keeps the revision, with no data.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

# More than any SCORM 1.2 attempt can hold (suspend_data is at most 4,096 characters); a guard, not a quota.
MAX_ATTEMPT_BYTES = 1024 * 1024


class BadAttempt(ValueError):
    """A write that is not an attempt (not a mapping of strings, too large)."""


def validated(doc) -> tuple[int, dict[str, str]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("cmi"), dict) or not isinstance(doc.get("rev"), int):
        raise BadAttempt('expected {"rev": <int>, "cmi": {"<element>": "<value>", …}}')
    cmi = doc["cmi"]
    if not all(isinstance(k, str) and k.startswith("cmi.") and isinstance(v, str) for k, v in cmi.items()):
        raise BadAttempt("cmi must map 'cmi.…' elements to strings")
    return doc["rev"], cmi


class AttemptStore:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._attempts: dict[str, dict] = self._read()

    def _read(self) -> dict[str, dict]:
        if self.path is None:
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            attempts = doc.get("attempts", {}) if isinstance(doc, dict) else {}
            return {key: {"rev": rev, "cmi": cmi} for key, value in attempts.items()
                    for rev, cmi in [_tolerant(value)] if cmi is not None}
        except (OSError, ValueError):  # none yet, or damaged: start afresh rather than refuse to preview
            return {}

    def _write(self) -> None:
        if self.path is None:
            return
        data = json.dumps({"attempts": self._attempts}, ensure_ascii=False, sort_keys=True, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".attempts.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        except OSError:
            # A read-only course folder: attempts still last as long as the preview runs.
            self.path = None

    def get(self, key: str) -> dict:
        with self._lock:
            return dict(self._attempts.get(key) or {"rev": 0, "cmi": {}})

    def put(self, key: str, rev: int, cmi: dict[str, str]) -> bool:
        """Store unless this or a newer revision is stored already; True if stored."""
        with self._lock:
            if rev <= self._attempts.get(key, {}).get("rev", 0):
                return False
            self._attempts[key] = {"rev": rev, "cmi": dict(cmi)}
            self._write()
            return True

    def reset(self, key: str, rev: int) -> None:
        """Forget the attempt. rev is the page's last revision: a write of it still on its way (the
        session's last one, sent as the page went) must not bring the attempt back."""
        with self._lock:
            self._attempts[key] = {"rev": max(rev, self._attempts.get(key, {}).get("rev", 0)), "cmi": {}}
            self._write()


def _tolerant(value) -> tuple[int, dict | None]:
    try:
        return validated(value)
    except BadAttempt:
        return 0, None
