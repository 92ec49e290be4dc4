"""Platform registrations and the platforms' public keys (JWKS), fetched with a timeout and cached."""

from __future__ import annotations

import httpx
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import Deployment, Platform, now

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


def find_platform(session: Session, issuer: str, client_id: str | None) -> list[Platform]:
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id is not None:
        query = query.where(Platform.client_id == client_id)
    return list(session.scalars(query))


_KNOWN_DEPLOYMENTS: dict[tuple[int, str], int] = {}  # (platform id, deployment id) → when it was seen
_KEYS: dict[tuple[str, str], RSAKey] = {}  # (n, e) → imported key: importing costs more than verifying


def deployment_known(session: Session, platform: Platform, deployment_id: str) -> bool:
    """Known deployments are remembered for a minute (they are only ever added, not removed)."""
    seen = _KNOWN_DEPLOYMENTS.get((platform.id, deployment_id))
    if seen is not None and now() - seen < 60:
        return True
    known = session.scalar(select(Deployment.id).where(Deployment.platform_id == platform.id,
                                                       Deployment.deployment_id == deployment_id)) is not None
    if known:
        if len(_KNOWN_DEPLOYMENTS) > 10_000:
            _KNOWN_DEPLOYMENTS.clear()
        _KNOWN_DEPLOYMENTS[(platform.id, deployment_id)] = now()
    return known


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


def platform_key(session: Session, platform: Platform, kid: str, client: httpx.Client,
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
        session.commit()
    data = _find(jwks, kid)
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
