"""Routes of the LTI handshake: the tool's key set, the OIDC login and the launch itself.

A launch validates the platform's id_token (lti/security.py), stores the launch and sends the browser on
to the module page (or the deep linking page); the launch id in that URL is the page's capability.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import ags, keys
from .db import Launch, now
from .outbound import OutboundError
from .roles import is_instructor
from .security import (DL, LTI, AGS_CLAIM, NRPS_CLAIM, Rejected, cookie_name, cookie_value, load_login, start_login,
                       verify_id_token)
from .tool import Tool, log, on_loop


def routes(tool: Tool) -> list[Route]:
    settings, course, rejected_page = tool.settings, tool.course, tool.rejected_page

    jwks_cache: dict = {}

    async def jwks(request: Request) -> Response:
        def read():
            # Cached briefly: platforms fetch it for every token request; a rotation shows within seconds.
            if jwks_cache.get("until", 0) < now():
                with tool.Session() as session:
                    jwks_cache.update(value=keys.public_jwks(session), until=now() + 5)
            return jwks_cache["value"]
        return JSONResponse(on_loop(read), headers={"Cache-Control": "public, max-age=300"})

    @rejected_page
    async def login(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})

        def run():
            with tool.store.connection() as connection:
                return start_login(connection, tool.platforms, settings, params)
        url, state = on_loop(run)
        response = RedirectResponse(url, status_code=302)
        set_state_cookie(response, state)
        return response

    def set_state_cookie(response: Response, state: str) -> None:
        # Written by hand: http.cookies knows `Partitioned` only from Python 3.14 on.
        cookie = f"{cookie_name(state)}={cookie_value(settings, state)}; Max-Age={settings.login_ttl}; Path=/lti/; HttpOnly"
        if settings.https:
            cookie += "; Secure; SameSite=None; Partitioned"
        else:  # loopback http for development: browsers drop SameSite=None cookies without Secure
            cookie += "; SameSite=Lax"
        response.headers.append("set-cookie", cookie)

    @rejected_page
    async def launch(request: Request) -> Response:
        if request.method != "POST":
            if "id_token" in request.query_params:
                raise Rejected("The id_token must be sent by POST (form_post), never in the URL.", 405,
                               "id_token_by_get")
            raise Rejected("The launch URL takes a POST from the platform.", 405, "method_not_allowed")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_token_bytes * 2:
            raise Rejected(f"The launch request is larger than {settings.max_token_bytes * 2} bytes.", 413,
                           "oversized_request", limit=settings.max_token_bytes * 2)
        form = await request.form(max_fields=20, max_part_size=settings.max_token_bytes * 2)
        id_token, state = form.get("id_token"), form.get("state")
        if isinstance(form.get("error"), str):
            reported = f"{form.get('error')} {form.get('error_description') or ''}".strip()
            raise Rejected(f"The platform reported: {reported}", 400, "platform_error", error=reported)
        cookies = dict(request.cookies)
        result = on_loop(do_launch, id_token if isinstance(id_token, str) else None,
                                         state if isinstance(state, str) else None, cookies)
        if isinstance(result, Response):
            return result
        launch_id = result.rsplit("/", 1)[1]
        if launch_id in without_lineitem:  # off the event loop: it may wait on the platform
            without_lineitem.discard(launch_id)
            await run_in_threadpool(attach_lineitem, launch_id)
        response = RedirectResponse(result, status_code=303)
        expired = f"{cookie_name(state)}=; Max-Age=0; Path=/lti/; HttpOnly"
        response.headers.append("set-cookie", expired + ("; Secure; SameSite=None; Partitioned" if settings.https
                                                         else "; SameSite=Lax"))
        return response

    without_lineitem: set[str] = set()  # launches of quiz links that came without a line item

    def attach_lineitem(launch_id: str) -> None:
        """A quiz link without a line item (Moodle: imported from a Common Cartridge) gets one, once per link."""
        with tool.background() as session:
            record = session.get(Launch, launch_id)
            if record is None or not ags.needs_lineitem(record):
                return
            key = (record.platform_id, record.resource_link_id, record.ags.get("lineitems"))
            url = tool.lineitems.get(key)
            if url:
                record.ags = {**record.ags, "lineitem": url}
                session.commit()
            else:
                # Made ahead, so teachers see the column before any score; if the platform is unreachable
                # now, a score's outbox row makes it later (ags.enqueue with column).
                try:
                    url = ags.ensure_lineitem(session, record, tool.http, tool.column_for(record))
                except (ags.ServiceError, OutboundError) as exc:
                    log.warning("no line item for resource link %s yet: %s", record.resource_link_id, exc)
                    return
                tool.lineitems[key] = url

    def do_launch(id_token: str | None, state: str | None, cookies: dict) -> str | Response:
        with tool.store.connection() as connection:
            login_state = load_login(connection, tool.platforms, state)
            cookie = cookies.get(cookie_name(state))
            if cookie is None:
                # Third-party cookies blocked in the iframe: offer the same login in a top-level window.
                login_url = settings.url("/lti/login") + "?" + urlencode(login_state.login_params)
                return tool.render("new_window.html.j2", status=401, login_url=login_url,
                                   title=tool.ui["lti_open_window"])
            if not hmac.compare_digest(cookie, cookie_value(settings, state)):
                raise Rejected("The login state does not belong to this browser.", 401, "forged_state")
            if not id_token:
                raise Rejected("The launch has no id_token.", 400, "missing_id_token")
            claims = verify_id_token(connection, tool.platforms, settings, tool.http, id_token, login_state,
                                     tool.refetch_interval)
            message_type = claims[LTI + "message_type"]
            if message_type == "LtiDeepLinkingRequest" and not is_instructor(claims[LTI + "roles"]):
                # Placing content is for the course's teachers; refused before anything is stored or signed.
                raise Rejected("Deep linking (placing content) is for teachers of the course.", 403, "not_instructor")
            module_id, task_id = tool.target_of(claims)
            if message_type == "LtiResourceLinkRequest":
                if module_id and course.module(module_id) is None:
                    raise Rejected(f"The module {module_id!r} is not part of this course.", 404, "unknown_module",
                                   module=module_id)
                if task_id and not any(t.id == task_id for t in course.tasks):
                    raise Rejected(f"The task {task_id!r} is not part of this course.", 404, "unknown_task",
                                   task=task_id)
                if not module_id and not task_id:
                    raise Rejected("The link names no module (custom parameter module=…).", 400, "no_module")
            def claim_dict(name: str) -> dict:
                value = claims.get(name)
                return value if isinstance(value, dict) else {}

            context, nrps = claim_dict(LTI + "context"), claim_dict(NRPS_CLAIM)
            launch_id = secrets.token_urlsafe(24)
            values = dict(
                id=launch_id, platform_id=login_state.platform_id,
                deployment_id=claims[LTI + "deployment_id"], message_type=message_type, user_id=claims["sub"],
                name=str(claims.get("name") or "")[:300], email=str(claims.get("email") or "")[:300],
                roles=claims[LTI + "roles"], context_id=str(context.get("id") or ""),
                context_title=str(context.get("title") or "")[:500], context_label=str(context.get("label") or "")[:255],
                resource_link_id=str(claim_dict(LTI + "resource_link").get("id") or ""),
                module_id=module_id, task_id=task_id, ags=claim_dict(AGS_CLAIM),
                nrps_url=str(nrps.get("context_memberships_url") or ""),
                deep_linking=claim_dict(DL + "deep_linking_settings"), created_at=now())
            # The state and nonce are used up in the same transaction that stores the launch.
            if not tool.store.use_login(connection, login_state.state, claims["nonce"]):
                connection.rollback()
                raise Rejected("This login was already used: the launch is a replay.", 401, "replayed_nonce")
            tool.store.add_launch(connection, values)
            connection.commit()
            if (message_type == "LtiResourceLinkRequest" and module_id and course.quiz_for(module_id) is not None
                    and ags.lineitem_missing(values["ags"], values["resource_link_id"])):
                without_lineitem.add(launch_id)
            if message_type == "LtiDeepLinkingRequest":
                return f"/lti/deep-link/{launch_id}"
            return f"/lti/play/{launch_id}"

    return [
        Route("/.well-known/jwks.json", jwks),
        Route("/lti/jwks", jwks),
        Route("/lti/login", login, methods=["GET", "POST"]),
        Route("/lti/launch", launch, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
