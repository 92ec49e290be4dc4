"""Settings of one tool instance, from arguments or environment variables (COURSE_LTI_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Settings:
    base_url: str  # the tool's public origin, e.g. https://lti.example.org (no trailing slash)
    data_dir: Path
    course_dir: Path = Path(".")
    database_url: str | None = None  # default: SQLite file in data_dir
    run_worker: bool = True  # the grade outbox worker inside the app
    clock_leeway: int = 60  # seconds of clock skew accepted on exp/iat
    login_ttl: int = 600  # seconds a login state stays usable
    max_token_bytes: int = 16 * 1024  # larger id_tokens are refused before parsing
    http_timeout: float = 5.0  # seconds to connect and for each read of an outbound request
    http_max_seconds: float = 20.0  # an outbound request with its whole answer
    http_max_bytes: int = 4 * 1024 * 1024  # the largest answer read from a platform
    # Loopback development mode (`--dev`, COURSE_LTI_DEV=1, or a loopback http --url): outbound requests may
    # go to loopback addresses and use plain http, as platforms on the same machine need (lti/outbound.py).
    dev: bool = False
    allow_networks: str = ""  # private networks outbound requests may reach, e.g. "10.20.0.0/16" (comma-separated)
    secret: bytes = field(default=b"", repr=False)  # HMAC key for cookies and CSRF; the app loads it from the database

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.data_dir = Path(self.data_dir)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'lti.sqlite3'}"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def loopback_http(self) -> bool:
        parts = urlsplit(self.base_url)
        return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS

    @property
    def loopback_dev(self) -> bool:
        """Loopback development mode: asked for, or implied by a tool that only this machine can reach."""
        return self.dev or self.loopback_http

    def url(self, path: str) -> str:
        return self.base_url + path

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = {
            "base_url": env.get("COURSE_LTI_URL", "http://127.0.0.1:8000"),
            "data_dir": Path(env.get("COURSE_LTI_DATA", "lti-data")),
            "database_url": env.get("COURSE_LTI_DATABASE") or None,
            "dev": env.get("COURSE_LTI_DEV", "") in ("1", "true", "yes"),
            "allow_networks": env.get("COURSE_LTI_ALLOW_NETWORKS", ""),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

