"""The tool's signing keys: RS256 only, one active and one next key, both published in the JWKS.

Rotation publishes a key before it signs anything: `rotate()` makes the next key active (platforms
already have it cached) and creates a new next key; the old active key is retired and leaves the JWKS.
"""

from __future__ import annotations

import json

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import ToolKey, now

ALG = "RS256"


def _new_key(status: str) -> ToolKey:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    data = key.as_dict(private=True)
    data.update({"kid": kid, "alg": ALG, "use": "sig"})
    return ToolKey(kid=kid, private_jwk=json.dumps(data), status=status,
                   activated_at=now() if status == "active" else None)


def ensure_keys(session: Session) -> None:
    """Create the active and the next key if missing (first start)."""
    have = {k.status for k in session.scalars(select(ToolKey).where(ToolKey.status.in_(["active", "next"])))}
    for status in ("active", "next"):
        if status not in have:
            session.add(_new_key(status))
    session.commit()


def rotate(session: Session) -> str:
    """next → active, active → retired, a fresh next key. Returns the new active kid."""
    ensure_keys(session)
    nxt = session.scalar(select(ToolKey).where(ToolKey.status == "next"))
    session.execute(update(ToolKey).where(ToolKey.status == "active").values(status="retired"))
    nxt.status, nxt.activated_at = "active", now()
    session.add(_new_key("next"))
    session.commit()
    return nxt.kid


def active_key(session: Session) -> RSAKey:
    row = session.scalar(select(ToolKey).where(ToolKey.status == "active"))
    if row is None:
        ensure_keys(session)
        row = session.scalar(select(ToolKey).where(ToolKey.status == "active"))
    return RSAKey.import_key(json.loads(row.private_jwk))


def public_jwks(session: Session) -> dict:
    rows = session.scalars(select(ToolKey).where(ToolKey.status.in_(["active", "next"])).order_by(ToolKey.status)).all()
    keys = []
    for row in rows:
        public = RSAKey.import_key(json.loads(row.private_jwk)).as_dict(private=False)
        public.update({"kid": row.kid, "alg": ALG, "use": "sig"})
        keys.append(public)
    return {"keys": keys}


def sign(session: Session, claims: dict) -> str:
    key = active_key(session)
    return jwt.encode({"alg": ALG, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[ALG])


def keyset(jwks: dict) -> KeySet:
    return KeySet.import_key_set(jwks)
