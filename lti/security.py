"""OIDC third-party login and id_token validation, following the IMS Security Framework 1.0.

Every check raises Rejected with an English message (logged) and a code whose text, in the course's
language, the error page shows to the person in front of the browser; nothing is stored by a rejected launch
(the login state is consumed only together with storing the launch).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from .config import Settings
from .db import now
from .launchstore import LoginRecord
from .outbound import OutboundClient
from .platforms import KeyFetchError, PlatformDirectory, RegisteredPlatform

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id")


class Rejected(Exception):
    """A refused request. `message` is English (the log text and the fallback); the page shows the text of
    `code` in the course language (i18n key lti_err_<code>), its {placeholders} filled from `details`."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request", **details):
        super().__init__(message)
        self.message, self.status, self.code, self.details = message, status, code, details

    def text(self, ui: dict[str, str]) -> str:
        template = ui.get("lti_err_" + self.code)
        if template is None:
            return self.message
        try:
            return template.format(**{name: str(value) for name, value in self.details.items()})
        except (KeyError, IndexError, ValueError):  # a translation naming a detail this call does not pass
            return self.message


def cookie_name(state: str) -> str:
    return "lti_state_" + hashlib.sha256(state.encode()).hexdigest()[:20]


def cookie_value(settings: Settings, state: str) -> str:
    return hmac.new(settings.secret, b"state:" + state.encode(), hashlib.sha256).hexdigest()


def csrf_token(settings: Settings, launch_id: str) -> str:
    return hmac.new(settings.secret, b"csrf:" + launch_id.encode(), hashlib.sha256).hexdigest()


def csrf_ok(settings: Settings, launch_id: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(settings, launch_id), token)


def own_url(settings: Settings, url: str) -> bool:
    parts = urlsplit(url)
    base = urlsplit(settings.base_url)
    return parts.scheme == base.scheme and parts.netloc.lower() == base.netloc.lower() and not parts.username


# --- login ----------------------------------------------------------------------------


def start_login(connection, platforms: PlatformDirectory, settings: Settings, params: dict) -> tuple[str, str]:
    """Check a third-party login request; store state and nonce. Returns (redirect URL, state)."""
    iss = params.get("iss")
    login_hint = params.get("login_hint")
    target = params.get("target_link_uri")
    if not iss or not login_hint or not target:
        raise Rejected("The login request lacks iss, login_hint or target_link_uri.", 400, "incomplete_login")
    client_id = params.get("client_id") or None
    found = platforms.find(connection, iss, client_id)
    if not found:
        if client_id:
            raise Rejected(f"The client {client_id!r} of {iss!r} is not registered with this tool.", 403,
                           "unknown_client", client=client_id, issuer=iss)
        raise Rejected(f"The platform {iss!r} is not registered with this tool.", 403, "unknown_platform", issuer=iss)
    if len(found) > 1:
        raise Rejected("This platform is registered several times; its login request must name the client_id.", 400,
                       "ambiguous_client")
    platform = found[0]
    if not own_url(settings, target):
        raise Rejected("target_link_uri points to another host than this tool.", 400, "foreign_target")
    deployment_id = params.get("lti_deployment_id")
    if deployment_id and not platforms.deployment_known(connection, platform, deployment_id):
        raise Rejected(f"Deployment {deployment_id!r} is not registered with this tool.", 403, "unknown_deployment",
                       deployment=deployment_id)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    kept = {k: params[k] for k in LOGIN_PARAMS if params.get(k)}
    platforms.store.add_login(connection, state=state, nonce=nonce, platform_id=platform.id, target_link_uri=target,
                              login_params=kept, expires_at=now() + settings.login_ttl)
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": platform.client_id, "redirect_uri": settings.url("/lti/launch"),
             "login_hint": login_hint, "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if urlsplit(platform.auth_login_url).query else "?"
    return platform.auth_login_url + separator + urlencode(query), state


# --- launch ------------------------------------------------------------------------------


def _b64json(part: str) -> dict:
    padded = part + "=" * (-len(part) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def unverified_parts(token: str) -> tuple[dict, dict]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Rejected("The id_token is not a signed JWT (it must have three parts).", 401, "malformed_token")
    try:
        return _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeError):
        raise Rejected("The id_token cannot be decoded.", 401, "malformed_token") from None


def load_login(connection, platforms: PlatformDirectory, state: str | None) -> LoginRecord:
    if not state:
        raise Rejected("The launch has no state: it did not come from a login through this tool.", 401, "missing_state")
    login = platforms.store.login(connection, state)
    if login is None or login.consumed_at is not None or login.expires_at < now():
        raise Rejected("The login state is unknown, used or expired. Please start the activity again from the course.",
                       401, "unknown_state")
    return login


def verify_id_token(connection, platforms: PlatformDirectory, settings: Settings, client: OutboundClient, token: str,
                    login: LoginRecord, refetch_interval: int = 5) -> dict:
    """Every check on the id_token except consuming the nonce; returns the verified claims."""
    if len(token) > settings.max_token_bytes:
        raise Rejected(f"The id_token is larger than {settings.max_token_bytes} bytes.", 413, "oversized_token",
                       limit=settings.max_token_bytes)
    header, unverified = unverified_parts(token)
    if header.get("alg") != "RS256":
        raise Rejected(f"The id_token is signed with {header.get('alg')!r}; this tool accepts RS256 only.", 401,
                       "bad_alg", alg=header.get("alg"))
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Rejected("The id_token header names no key (kid).", 401, "missing_kid")
    platform = platforms.get(connection, login.platform_id)
    if platform is None:
        raise Rejected("The platform of this login is no longer registered with this tool.", 403, "platform_removed")
    if unverified.get("iss") != platform.issuer:
        raise Rejected("The id_token's issuer (iss) is not the platform the login came from.", 401, "wrong_iss")
    try:
        key = platforms.key(connection, platform, kid, client, refetch_interval)
    except KeyFetchError as exc:
        raise Rejected(f"The platform's keys are not available: {exc}.", 502, "jwks_unavailable", error=exc) from None
    if key is None:
        raise Rejected(f"The platform's key set has no RS256 key with kid {kid!r}.", 401, "unknown_kid", kid=kid)
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"]).claims
    except JoseError:
        raise Rejected("The id_token's signature does not verify with the platform's key.", 401, "bad_signature") from None
    check_claims(connection, platforms, settings, platform, login, claims)
    return claims


def check_claims(connection, platforms: PlatformDirectory, settings: Settings, platform: RegisteredPlatform,
                 login: LoginRecord, claims: dict) -> None:
    t = now()
    leeway = settings.clock_leeway
    if claims.get("iss") != platform.issuer:
        raise Rejected("The id_token's issuer (iss) is wrong.", 401, "wrong_iss")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if platform.client_id not in audiences:
        raise Rejected("The id_token is not meant for this tool (aud lacks our client id).", 401, "wrong_aud")
    azp = claims.get("azp")
    if len(audiences) > 1:
        if azp is None:
            raise Rejected("The id_token has several audiences but no authorized party (azp).", 401, "missing_azp")
        untrusted = [a for a in audiences if a != platform.client_id and a not in (platform.trusted_audiences or [])]
        if untrusted:
            listed = ", ".join(map(str, untrusted))
            raise Rejected(f"The id_token is also meant for untrusted audiences: {listed}.", 401, "untrusted_aud",
                           audiences=listed)
    if azp is not None and azp != platform.client_id:
        raise Rejected("The id_token's authorized party (azp) is not this tool.", 401, "wrong_azp")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)):
        raise Rejected("The id_token has no expiry (exp).", 401, "missing_exp")
    if exp + leeway < t:
        raise Rejected("The id_token has expired.", 401, "expired")
    if not isinstance(iat, (int, float)):
        raise Rejected("The id_token has no issue time (iat).", 401, "missing_iat")
    if iat - leeway > t:
        raise Rejected("The id_token was issued in the future; check the platform's clock.", 401, "future_iat")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise Rejected("The id_token has no nonce.", 401, "missing_nonce")
    if not hmac.compare_digest(nonce.encode(), login.nonce.encode()):
        if platforms.store.nonce_used(connection, nonce):
            raise Rejected("The id_token's nonce was already used: this launch is a replay.", 401, "replayed_nonce")
        raise Rejected("The id_token's nonce does not belong to this login.", 401, "unknown_nonce")
    deployment_id = claims.get(LTI + "deployment_id")
    if not isinstance(deployment_id, str) or not platforms.deployment_known(connection, platform, deployment_id):
        raise Rejected(f"Deployment {deployment_id!r} is not registered with this tool.", 403, "unknown_deployment",
                       deployment=deployment_id)
    message_type = claims.get(LTI + "message_type")
    if message_type not in MESSAGE_TYPES:
        raise Rejected(f"Message type {message_type!r} is not supported.", 400, "wrong_message_type",
                       message_type=message_type)
    if claims.get(LTI + "version") != "1.3.0":
        raise Rejected(f"LTI version {claims.get(LTI + 'version')!r} is not supported (1.3.0 is).", 400,
                       "wrong_version", version=claims.get(LTI + "version"))
    target = claims.get(LTI + "target_link_uri")
    if target != login.target_link_uri:
        raise Rejected("target_link_uri differs from the one in the login request.", 401, "target_mismatch")
    if not own_url(settings, target):
        raise Rejected("target_link_uri points to another host than this tool.", 401, "foreign_target")
    roles = claims.get(LTI + "roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Rejected("The id_token has no roles claim.", 400, "missing_roles")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Rejected("The id_token names no user (sub); anonymous launches are not supported.", 400, "missing_sub")
    if message_type == "LtiResourceLinkRequest":
        link = claims.get(LTI + "resource_link")
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link.get("id"):
            raise Rejected("The launch has no resource link id.", 400, "missing_resource_link")
    else:
        settings_claim = claims.get(DL + "deep_linking_settings")
        if not isinstance(settings_claim, dict) or not settings_claim.get("deep_link_return_url"):
            raise Rejected("The deep linking request has no deep_link_return_url.", 400, "missing_dl_settings")
