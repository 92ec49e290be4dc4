"""LTI Dynamic Registration 1.0 (Moodle: "Tool URL" under Manage tools), allowed by an administrator.

`course lti register --dynamic` makes a one-time URL /lti/register/<token> (valid for a limited time);
the administrator pastes it into the platform, which opens it with ?openid_configuration=…&registration_token=….
Without a usable token nothing is fetched (403). With it, the token is used up, we read the platform's
OpenID configuration (its issuer must be the configuration URL's own origin), post our client
registration, store the platform as a new one with the client id and deployment id it returns, and
close the platform's dialog with the org.imsglobal.lti.close postMessage. A registration never changes
a platform that is known already. Every request goes through the outbound client (lti/outbound.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .db import Registration, RegistrationToken, now
from .outbound import OutboundError, check_url
from .platforms import PlatformExists, register_platform
from .security import Rejected

log = logging.getLogger("lti.registration")

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
          "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
          "https://purl.imsglobal.org/spec/lti-ags/scope/score",
          "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"]


def client_metadata(settings, title: str) -> dict:
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": settings.url("/lti/login"),
        "redirect_uris": [settings.url("/lti/launch")],
        "client_name": title,
        "jwks_uri": settings.url("/.well-known/jwks.json"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIG: {
            "domain": settings.host,
            "target_link_uri": settings.url("/lti/launch"),
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": settings.url("/lti/launch"),
                          "label": title}],
            "custom_parameters": {},
        },
    }


TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session: Session, lifetime: int, note: str = "") -> str:
    """A one-time registration token (stored as its hash); the administrator hands out the URL with it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(RegistrationToken(token_hash=_digest(token), created_at=now(), expires_at=now() + lifetime,
                                  used_at=None, note=note[:200]))
    session.commit()
    return token


def token_usable(session: Session, token: str) -> bool:
    return session.scalar(select(RegistrationToken.id).where(
        RegistrationToken.token_hash == _digest(token), RegistrationToken.used_at.is_(None),
        RegistrationToken.expires_at >= now())) is not None


def use_token(session: Session, token: str) -> bool:
    """Use the token up; True for exactly one caller, however many race (a conditional UPDATE)."""
    t = now()
    result = session.execute(update(RegistrationToken)
                             .where(RegistrationToken.token_hash == _digest(token), RegistrationToken.used_at.is_(None),
                                    RegistrationToken.expires_at >= t)
                             .values(used_at=t))
    session.commit()
    return result.rowcount == 1


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL without user information; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if "@" in parts.netloc or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def register(tool, token: str, openid_configuration: str, registration_token: str | None) -> dict:
    """The registration an administrator allowed with `token`; nothing is fetched without it."""
    settings, client = tool.settings, tool.http
    with tool.Session() as session:
        if not token_usable(session, token):
            raise Rejected("The registration URL is unknown, used or expired; an administrator of the tool "
                           "makes a new one with 'course lti register --dynamic'.", 403, "registration_token")
        try:
            check_url(openid_configuration, client.policy)
        except OutboundError as exc:
            raise Rejected(f"The configuration URL is not allowed: {exc}.", 400, "registration_url") from None
        if not use_token(session, token):  # another request used it a moment ago
            raise Rejected("The registration URL was used a moment ago.", 403, "registration_token")
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        config = client.json_object("GET", openid_configuration, headers=headers)
    except OutboundError as exc:
        raise Rejected(f"The platform's configuration could not be read: {exc}", 502, "registration_failed") from None
    issuer = config.get("issuer")
    # The same origin, compared parsed: a prefix test lets http://victim@attacker/… pass for http://victim.
    if not isinstance(issuer, str) or origin(issuer) is None or origin(issuer) != origin(openid_configuration):
        raise Rejected("The platform's configuration names an issuer that is not its own address.", 400,
                       "registration_issuer")
    for key in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        try:
            check_url(config.get(key) if isinstance(config.get(key), str) else "", client.policy)
        except OutboundError:
            raise Rejected(f"The platform's configuration lacks a usable {key}.", 400, "registration_incomplete",
                           key=key) from None
    try:
        registered = client.json_object("POST", config["registration_endpoint"], headers=headers,
                                        json=client_metadata(settings, tool.course.title))
    except OutboundError as exc:
        raise Rejected(f"The platform refused the registration: {exc}", 502, "registration_refused") from None
    client_id = registered.get("client_id")
    deployment_id = (registered.get(TOOL_CONFIG) or {}).get("deployment_id")
    if not client_id:
        raise Rejected("The platform's registration answer has no client_id.", 502, "registration_no_client_id")
    with tool.Session() as session:
        try:
            register_platform(session, issuer=issuer, client_id=str(client_id),
                              auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
                              jwks_url=config["jwks_uri"],
                              deployment_ids=[str(deployment_id)] if deployment_id else [],
                              name=str((config.get(PLATFORM_CONFIG) or {}).get("product_family_code") or issuer),
                              token_audience=config.get("authorization_server")
                              if isinstance(config.get("authorization_server"), str) else None)
        except PlatformExists:
            raise Rejected(f"The platform {issuer} with client id {client_id} is registered already; a registration "
                           "never changes it (an administrator uses 'course lti update-platform').", 409,
                           "registration_exists") from None
        session.add(Registration(issuer=issuer, client_id=str(client_id), response=registered))
        session.commit()
    log.info("registered platform %s (client %s, deployment %s)", issuer, client_id, deployment_id)
    return {"issuer": issuer, "client_id": client_id, "deployment_id": deployment_id}


def routes(tool, rejected_page) -> list:
    @rejected_page
    async def dynamic_registration(request: Request) -> Response:
        token = request.path_params.get("token", "")
        if not token:
            raise Rejected("Dynamic registration needs the registration URL an administrator of the tool made with "
                           "'course lti register --dynamic'.", 403, "registration_token")
        config_url = request.query_params.get("openid_configuration")
        if not config_url:
            raise Rejected("Dynamic registration needs the platform's openid_configuration URL.", 400,
                           "registration_request")
        result = await run_in_threadpool(register, tool, token, config_url,
                                         request.query_params.get("registration_token"))
        # The page closes the platform's registration dialog (org.imsglobal.lti.close).
        return tool.render("registered.html.j2", client_id=str(result["client_id"]), title=tool.ui["lti_registered_title"])

    return [Route("/lti/register", dynamic_registration), Route("/lti/register/{token}", dynamic_registration)]
