"""Platform registrations and the platforms' public keys (JWKS), fetched with a timeout and cached."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import httpx
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import Deployment, Platform, now
from .launchstore import LaunchStore

JWKS_MAX_AGE = 3600  # seconds a fetched key set is trusted before it is fetched again


class KeyFetchError(Exception):
    pass


def http_client(timeout: float) -> httpx.Client:
    """Every outbound request goes through a client with explicit timeouts (httpx: no request without one)."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), follow_redirects=False,
                        headers={"User-Agent": "course_builder-lti/1"})


def register_platform(session: Session, *, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str,
                      jwks_url: str, deployment_ids: list[str], name: str = "",
                      token_audience: str | None = None) -> Platform:
    """Create or update a platform registration and add its deployments."""
    platform = session.scalar(select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id))
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id, trusted_audiences=[], jwks_fetched_at=0)
        session.add(platform)
    platform.name = name or platform.name or issuer
    platform.auth_login_url, platform.auth_token_url, platform.jwks_url = auth_login_url, auth_token_url, jwks_url
    platform.token_audience = token_audience
    platform.jwks, platform.jwks_fetched_at = None, 0
    session.flush()
    known = set(session.scalars(select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)))
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id))
            known.add(deployment_id)
    session.commit()
    return platform


_KEYS: dict[tuple[str, str], RSAKey] = {}  # (n, e) → imported key: importing costs more than verifying


def _fetch(platform: Platform, client: httpx.Client) -> dict:
    try:
        response = client.get(platform.jwks_url, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise KeyFetchError(f"the platform's key set at {platform.jwks_url} could not be fetched ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeyFetchError(f"the platform's key set at {platform.jwks_url} is not a JWKS")
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

    def key(self, connection, platform: RegisteredPlatform, kid: str, client: httpx.Client,
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
