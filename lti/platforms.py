"""Platform registrations and the platforms' public keys (JWKS), fetched through the outbound client and cached."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Deployment, Platform, now
from .launchstore import LaunchStore
from .outbound import OutboundClient, OutboundError

JWKS_MAX_AGE = 3600  # seconds a fetched key set is trusted before it is fetched again


class KeyFetchError(Exception):
    pass


class PlatformExists(Exception):
    def __init__(self, platform: Platform):
        super().__init__(f"the platform {platform.issuer} with client id {platform.client_id} is already registered")
        self.platform = platform


ENDPOINTS = ("auth_login_url", "auth_token_url", "jwks_url", "token_audience")


def find_platform(session: Session, issuer: str, client_id: str) -> Platform | None:
    return session.scalar(select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id))


def register_platform(session: Session, *, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str,
                      jwks_url: str, deployment_ids: list[str], name: str = "",
                      token_audience: str | None = None) -> Platform:
    """Store a new platform with its deployments and commit.

    An existing (issuer, client id) is never changed here — PlatformExists instead: whoever can register
    must not be able to swap a known platform's keys or endpoints (a takeover). Those change only through
    update_platform, an administrator's command; the same issuer with another client id is another platform.
    """
    if (existing := find_platform(session, issuer, client_id)) is not None:
        raise PlatformExists(existing)
    platform = Platform(issuer=issuer, client_id=client_id, name=name or issuer, auth_login_url=auth_login_url,
                        auth_token_url=auth_token_url, jwks_url=jwks_url, token_audience=token_audience,
                        trusted_audiences=[], jwks=None, jwks_fetched_at=0)
    session.add(platform)
    try:
        session.flush()
        for deployment_id in dict.fromkeys(deployment_ids):
            session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id))
        session.commit()
    except IntegrityError:  # registered at the same moment by another request or instance
        session.rollback()
        raise PlatformExists(find_platform(session, issuer, client_id)) from None
    return platform


def add_deployments(session: Session, platform: Platform, deployment_ids: list[str]) -> list[str]:
    """An administrator's addition of deployments to a known platform; returns the new ones."""
    known = set(session.scalars(select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)))
    added = [d for d in dict.fromkeys(deployment_ids) if d not in known]
    for deployment_id in added:
        session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id))
    session.commit()
    return added


def endpoint_changes(platform: Platform, **wanted) -> dict[str, tuple]:
    """field → (stored, wanted) for every endpoint given (not None) that differs from the stored one."""
    return {field: (getattr(platform, field), value) for field, value in wanted.items()
            if field in ENDPOINTS and value is not None and getattr(platform, field) != value}


def update_platform(session: Session, platform: Platform, changes: dict[str, tuple]) -> None:
    """Apply endpoint_changes (an administrator confirmed them); a new key-set URL drops the cached keys."""
    for field, (_, value) in changes.items():
        setattr(platform, field, value)
    if "jwks_url" in changes:
        platform.jwks, platform.jwks_fetched_at = None, 0
    session.commit()


_KEYS: dict[tuple[str, str], RSAKey] = {}  # (n, e) → imported key: importing costs more than verifying


def _fetch(platform: Platform, client: OutboundClient) -> dict:
    # The text says what failed, never where (it is shown on the error page); the log has the URL.
    try:
        data = client.json_object("GET", platform.jwks_url, headers={"Accept": "application/json"})
    except OutboundError as exc:
        raise KeyFetchError(f"the platform's key set could not be fetched ({exc})") from None
    if not isinstance(data.get("keys"), list):
        raise KeyFetchError("the platform's key set is not a JWKS")
    return data


def _find(jwks: dict | None, kid: str) -> dict | None:
    for key in (jwks or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid and key.get("kty") == "RSA":
            return key
    return None


@dataclass
class RegisteredPlatform:
    """A platform as the launch path sees it (read-only apart from the key set it fetches)."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    trusted_audiences: list
    jwks: dict | None
    jwks_fetched_at: int
    deployments: frozenset[str]


class PlatformDirectory:
    """The registered platforms, held in memory for the launch path.

    Read again from the database every `max_age` seconds, and at once when an issuer, client, platform
    id or deployment is not found: a registration made by `course lti register` or another instance
    works with its first launch; a changed URL or removed deployment shows within max_age seconds.
    Every method takes the caller's DBAPI connection (SQLite: the process has one).
    """

    def __init__(self, store: LaunchStore, max_age: float = 5.0):
        self.store, self.max_age = store, max_age
        self._by_id: dict[int, RegisteredPlatform] = {}
        self._loaded_at = float("-inf")

    def reload(self, connection) -> None:
        rows, deployments = self.store.platforms(connection)
        by_platform: dict[int, set[str]] = {}
        for platform_id, deployment_id in deployments:
            by_platform.setdefault(platform_id, set()).add(deployment_id)
        fields = {f.name for f in dataclasses.fields(RegisteredPlatform)} - {"deployments"}
        self._by_id = {row["id"]: RegisteredPlatform(**{k: row[k] for k in fields},
                                                     deployments=frozenset(by_platform.get(row["id"], ())))
                       for row in rows}
        for platform in self._by_id.values():
            platform.trusted_audiences = platform.trusted_audiences or []
            platform.jwks_fetched_at = platform.jwks_fetched_at or 0
        self._loaded_at = time.monotonic()

    def _current(self, connection) -> dict[int, RegisteredPlatform]:
        if time.monotonic() - self._loaded_at > self.max_age:
            self.reload(connection)
        return self._by_id

    def _look(self, connection, pick):
        """pick(platforms by id) on what is held; on a miss, on a fresh read of the database."""
        return pick(self._current(connection)) or pick(self._reloaded(connection))

    def _reloaded(self, connection) -> dict[int, RegisteredPlatform]:
        self.reload(connection)
        return self._by_id

    def find(self, connection, issuer: str, client_id: str | None) -> list[RegisteredPlatform]:
        return self._look(connection, lambda by_id: [p for p in by_id.values() if p.issuer == issuer and (
            client_id is None or p.client_id == client_id)])

    def get(self, connection, platform_id: int) -> RegisteredPlatform | None:
        return self._look(connection, lambda by_id: by_id.get(platform_id))

    def deployment_known(self, connection, platform: RegisteredPlatform, deployment_id: str) -> bool:
        return self._look(connection, lambda by_id: platform.id in by_id and
                          deployment_id in by_id[platform.id].deployments)

    def key(self, connection, platform: RegisteredPlatform, kid: str, client: OutboundClient,
            refetch_interval: int = 5) -> RSAKey | None:
        """The platform's public key with this kid: from the cache, else fetched (again once for an unknown kid).

        refetch_interval limits how often unknown kids can make us fetch, so forged kids cannot turn the
        tool into a request amplifier against the platform.
        """
        jwks = platform.jwks
        stale = now() - platform.jwks_fetched_at > JWKS_MAX_AGE
        if jwks is None or stale or (_find(jwks, kid) is None and now() - platform.jwks_fetched_at >= refetch_interval):
            jwks = _fetch(platform, client)
            platform.jwks, platform.jwks_fetched_at = jwks, now()
            self.store.store_jwks(connection, platform.id, jwks, platform.jwks_fetched_at)
        return _public_key(_find(jwks, kid))


def _public_key(data: dict | None) -> RSAKey | None:
    if data is None:
        return None
    if data.get("alg") not in (None, "RS256") or data.get("use") not in (None, "sig"):
        return None
    cache_key = (str(data.get("n")), str(data.get("e")))
    key = _KEYS.get(cache_key)
    if key is None:
        try:
            key = RSAKey.import_key({k: v for k, v in data.items() if k in ("kty", "n", "e", "kid")})
        except Exception:
            return None
        if len(_KEYS) > 1000:
            _KEYS.clear()
        _KEYS[cache_key] = key
    return key
