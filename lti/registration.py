"""LTI Dynamic Registration 1.0 (Moodle: "Tool URL" under Manage tools).

The platform opens /lti/register?openid_configuration=…&registration_token=…; we read its OpenID
configuration, post our client registration, store the platform with the client id and deployment
id it returns, and close the platform's dialog with the org.imsglobal.lti.close postMessage.
"""

from __future__ import annotations

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .db import Registration
from .platforms import register_platform
from .security import Rejected

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


def _json_object(send) -> dict:
    """The JSON object a request to the platform answers with; ValueError saying why there is none."""
    try:
        response = send()
        response.raise_for_status()
        value = response.json()
    except httpx.HTTPError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value


def register(tool, openid_configuration: str, registration_token: str | None) -> dict:
    settings, client = tool.settings, tool.http
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        config = _json_object(lambda: client.get(openid_configuration, headers=headers))
    except ValueError as exc:
        raise Rejected(f"The platform's configuration could not be read: {exc}", 502, "registration_failed",
                       error=exc) from None
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not openid_configuration.startswith(issuer.rstrip("/")):
        raise Rejected("The platform's configuration names an issuer that is not its own address.", 400,
                       "registration_issuer")
    for key in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(config.get(key), str):
            raise Rejected(f"The platform's configuration lacks {key}.", 400, "registration_incomplete", key=key)
    try:
        registered = _json_object(lambda: client.post(config["registration_endpoint"], headers=headers,
                                                      json=client_metadata(settings, tool.course.title)))
    except ValueError as exc:
        raise Rejected(f"The platform refused the registration: {exc}", 502, "registration_refused",
                       error=exc) from None
    client_id = registered.get("client_id")
    deployment_id = (registered.get(TOOL_CONFIG) or {}).get("deployment_id")
    if not client_id:
        raise Rejected("The platform's registration answer has no client_id.", 502, "registration_no_client_id")
    with tool.Session() as session:
        register_platform(session, issuer=issuer, client_id=str(client_id),
                          auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
                          jwks_url=config["jwks_uri"], deployment_ids=[str(deployment_id)] if deployment_id else [],
                          name=(config.get(PLATFORM_CONFIG) or {}).get("product_family_code", issuer),
                          token_audience=config.get("authorization_server"))
        session.add(Registration(issuer=issuer, client_id=str(client_id), response=registered))
        session.commit()
    return {"issuer": issuer, "client_id": client_id, "deployment_id": deployment_id}


def routes(tool, rejected_page) -> list:
    @rejected_page
    async def dynamic_registration(request: Request) -> Response:
        config_url = request.query_params.get("openid_configuration")
        if not config_url:
            raise Rejected("Dynamic registration needs the platform's openid_configuration URL.", 400,
                           "registration_request")
        result = await run_in_threadpool(register, tool, config_url, request.query_params.get("registration_token"))
        # The page closes the platform's registration dialog (org.imsglobal.lti.close).
        return tool.render("registered.html.j2", client_id=str(result["client_id"]), title=tool.ui["lti_registered_title"])

    return [Route("/lti/register", dynamic_registration)]
