"""Learners as keyed pseudonyms: HMAC-SHA256 of the source's user id, so that reports and caches hold
no name, no email address and no id a platform could be searched for.

The key is COURSE_PSEUDONYM_KEY if set (use one key across runs to follow a learner between reports),
else a random key kept in the course's cache folder (never committed: .course-cache is ignored).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV = "COURSE_PSEUDONYM_KEY"


def key_for(cache_dir: Path | None) -> bytes:
    if os.environ.get(ENV):
        return os.environ[ENV].encode()
    if cache_dir is None:
        return secrets.token_bytes(32)
    path = cache_dir / "pseudonym.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        key = secrets.token_bytes(32)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(key.hex())
        except OSError:
            pass  # a read-only course: pseudonyms hold for this run only
        return key


class Pseudonymiser:
    def __init__(self, key: bytes):
        self._key = key

    def __call__(self, *identity: str) -> str:
        text = "\x1f".join(s.strip().lower() for s in identity)
        return "L-" + hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:12]
