"""Login and launch against the IMS Security Framework: every forged or broken launch is refused
with a clear error page, and nothing is stored (no launch, no consumed login state)."""

from __future__ import annotations

import time

import httpx
import pytest

from lti_harness import Tool, platform, tool  # noqa: F401 (fixtures)
from lti_platform import LTI, rsa_key


@pytest.fixture(autouse=True)
def fresh_cookies(tool):
    tool.client.cookies.clear()
    yield


def rejected(tool: Tool, response: httpx.Response, code: str, before: dict, status: int | None = None) -> None:
    assert response.status_code >= 400, response.text
    if status:
        assert response.status_code == status
    assert "The module could not be started" in response.text or "Das Modul konnte nicht gestartet werden" in response.text
    assert f"({code})" in response.text, response.text
    assert tool.counts() == before, "a rejected launch must store nothing"


def mutated(tool: Tool, code: str, mutate=None, status: int | None = None, **flow_args) -> None:
    before = tool.counts()
    flow = tool.launch(mutate=mutate, custom={"module": "grundlagen"}, **flow_args)
    rejected(tool, flow.launch, code, before, status)


# --- the valid launch and its cookie --------------------------------------------------------------


def test_valid_launch_delivers_the_module_and_consumes_the_state(tool):
    before = tool.counts()
    flow = tool.launch(custom={"module": "grundlagen"})
    launch_id, page = tool.play(flow)
    assert '"lms":"http"' in page and f'"/lti/state/{launch_id}"' in page
    after = tool.counts()
    assert after["launches"] == before["launches"] + 1 and after["consumed"] == before["consumed"] + 1


def test_state_cookie_over_https_is_partitioned_cross_site_cookie(tool):
    login = tool.start_login()
    cookie = login.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in cookie


def test_state_cookie_on_loopback_http_is_lax(platform, tmp_path):
    saved = platform.tool_jwks_url, platform.redirect_uris
    local = Tool(tmp_path / "data", platform, base_url="http://127.0.0.1:8765")
    try:
        cookie = local.start_login(target="http://127.0.0.1:8765/lti/launch").headers["set-cookie"]
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        assert "Secure" not in cookie and "SameSite=None" not in cookie
    finally:
        local.close()
        platform.tool_jwks_url, platform.redirect_uris = saved


def test_login_redirects_to_platform_with_oidc_parameters(tool, platform):
    login = tool.start_login()
    assert login.status_code == 302
    location = httpx.URL(login.headers["location"])
    params = dict(location.params)
    assert str(location).startswith(platform.auth_url)
    assert params["scope"] == "openid" and params["response_type"] == "id_token"
    assert params["response_mode"] == "form_post" and params["prompt"] == "none"
    assert params["redirect_uri"] == "https://tool.test/lti/launch"
    assert params["client_id"] == platform.client_id and params["state"] and params["nonce"]


def test_platform_key_rotation_is_picked_up_by_fetching_once_more(tool, platform):
    old = platform.key
    platform.key = rsa_key()
    fetches = platform.jwks_fetches
    try:
        tool.play(tool.launch(custom={"module": "grundlagen"}))
        assert platform.jwks_fetches == fetches + 1
        tool.play(tool.launch(custom={"module": "grundlagen"}))  # now cached
        assert platform.jwks_fetches == fetches + 1
    finally:
        platform.key = old


def test_missing_cookie_offers_the_launch_in_a_new_window(tool):
    before = tool.counts()
    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    tool.client.cookies.clear()  # third-party cookies blocked in the LMS's iframe
    response = tool.client.post("/lti/launch", data=flow.fields)
    assert response.status_code == 401
    assert 'id="open-window"' in response.text and 'target="_blank"' in response.text
    assert "/lti/login?iss=" in response.text
    assert tool.counts() == before


# --- signature and key ------------------------------------------------------------------------------


def test_forged_signature(tool):
    def tamper(token: str) -> str:
        head, body, sig = token.split(".")
        return ".".join([head, body, sig[:-6] + ("AAAAAA" if not sig.endswith("AAAAAA") else "BBBBBB")])

    mutated(tool, "bad_signature", token=lambda claims: tamper(tool.platform.sign(claims)))


def test_payload_changed_after_signing(tool):
    import base64
    import json

    def swap_payload(claims: dict) -> str:
        head, _, sig = tool.platform.sign(claims).split(".")
        evil = dict(claims, sub="admin")
        body = base64.urlsafe_b64encode(json.dumps(evil).encode()).rstrip(b"=").decode()
        return ".".join([head, body, sig])

    mutated(tool, "bad_signature", token=swap_payload)


def test_another_key_under_our_kid(tool):
    intruder = rsa_key()
    mutated(tool, "bad_signature", sign={"key": intruder, "kid": tool.platform.key.kid})


def test_unknown_kid_is_fetched_once_then_refused(tool, platform):
    fetches = platform.jwks_fetches
    mutated(tool, "unknown_kid", sign={"key": rsa_key(), "kid": "not-a-platform-kid"})
    assert platform.jwks_fetches == fetches + 1


def test_alg_none(tool):
    mutated(tool, "bad_alg", token=lambda claims: tool.platform.sign(claims, alg="none"))


def test_hs256_keyed_with_the_public_key(tool):
    mutated(tool, "bad_alg", token=lambda claims: tool.platform.hs256_with_public_key(claims))


def test_malformed_token(tool):
    mutated(tool, "malformed_token", token=lambda claims: "not.a-jwt")


# --- time ------------------------------------------------------------------------------------------


def test_expired(tool):
    mutated(tool, "expired", mutate=lambda c: c.update(exp=int(time.time()) - 3600, iat=int(time.time()) - 3700))


def test_missing_exp(tool):
    mutated(tool, "missing_exp", mutate=lambda c: c.pop("exp"))


def test_future_iat(tool):
    mutated(tool, "future_iat", mutate=lambda c: c.update(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200))


def test_small_clock_skew_is_accepted(tool):
    flow = tool.launch(custom={"module": "grundlagen"}, mutate=lambda c: c.update(iat=int(time.time()) + 20))
    tool.play(flow)


# --- issuer and audience ------------------------------------------------------------------------------


def test_wrong_iss(tool):
    mutated(tool, "wrong_iss", mutate=lambda c: c.update(iss="https://evil.example.org"))


def test_foreign_aud(tool):
    mutated(tool, "wrong_aud", mutate=lambda c: c.update(aud="another-tool"))


def test_extra_aud_without_azp(tool):
    mutated(tool, "missing_azp", mutate=lambda c: c.update(aud=[tool.platform.client_id, "another-tool"]))


def test_extra_untrusted_aud_with_azp(tool):
    mutated(tool, "untrusted_aud",
            mutate=lambda c: c.update(aud=[tool.platform.client_id, "another-tool"], azp=tool.platform.client_id))


def test_wrong_azp(tool):
    mutated(tool, "wrong_azp", mutate=lambda c: c.update(azp="another-tool"))


# --- nonce and state ------------------------------------------------------------------------------


def test_missing_nonce(tool):
    mutated(tool, "missing_nonce", mutate=lambda c: c.pop("nonce"))


def test_unknown_nonce(tool):
    mutated(tool, "unknown_nonce", mutate=lambda c: c.update(nonce="made-up-nonce"))


def test_replayed_launch_post(tool):
    flow = tool.launch(custom={"module": "grundlagen"})
    tool.play(flow)
    before = tool.counts()
    again = tool.client.post("/lti/launch", data=flow.fields)
    rejected(tool, again, "unknown_state", before)


def test_replayed_id_token_with_a_fresh_state(tool):
    flow = tool.launch(custom={"module": "grundlagen"})
    tool.play(flow)
    fresh = tool.start_login()  # a new login: new state, new cookie
    state = dict(httpx.URL(fresh.headers["location"]).params)["state"]
    before = tool.counts()
    response = tool.client.post("/lti/launch", data={"id_token": flow.fields["id_token"], "state": state})
    rejected(tool, response, "replayed_nonce", before)


def test_missing_state(tool):
    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    before = tool.counts()
    rejected(tool, tool.client.post("/lti/launch", data={"id_token": flow.fields["id_token"]}), "missing_state", before)


def test_unknown_state(tool):
    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    before = tool.counts()
    response = tool.client.post("/lti/launch", data={"id_token": flow.fields["id_token"], "state": "forged-state"})
    rejected(tool, response, "unknown_state", before)


def test_forged_state_cookie(tool):
    from lti.security import cookie_name

    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    tool.client.cookies.clear()
    tool.client.cookies.set(cookie_name(flow.fields["state"]), "0" * 64, domain="tool.test", path="/lti/")
    before = tool.counts()
    rejected(tool, tool.client.post("/lti/launch", data=flow.fields), "forged_state", before)


def test_expired_login_state(tool):
    from sqlalchemy import update

    from lti.db import LoginState

    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    with tool.tool.Session() as session:
        session.execute(update(LoginState).where(LoginState.state == flow.fields["state"]).values(expires_at=0))
        session.commit()
    before = tool.counts()
    rejected(tool, tool.client.post("/lti/launch", data=flow.fields), "unknown_state", before)


# --- LTI claims ---------------------------------------------------------------------------------


def test_unknown_deployment(tool):
    mutated(tool, "unknown_deployment", mutate=lambda c: c.update({LTI + "deployment_id": "999"}))


def test_wrong_message_type(tool):
    mutated(tool, "wrong_message_type", mutate=lambda c: c.update({LTI + "message_type": "LtiSubmissionReviewRequest"}))


def test_wrong_version(tool):
    mutated(tool, "wrong_version", mutate=lambda c: c.update({LTI + "version": "1.1"}))


def test_missing_roles(tool):
    mutated(tool, "missing_roles", mutate=lambda c: c.pop(LTI + "roles"))


def test_missing_resource_link_id(tool):
    mutated(tool, "missing_resource_link", mutate=lambda c: c.update({LTI + "resource_link": {"title": "x"}}))


def test_target_link_uri_differs_from_login(tool):
    mutated(tool, "target_mismatch",
            mutate=lambda c: c.update({LTI + "target_link_uri": "https://tool.test/lti/launch?module=other"}))


def test_target_link_uri_on_a_foreign_host_at_login(tool):
    before = tool.counts()
    response = tool.start_login(target="https://evil.example.org/lti/launch")
    rejected(tool, response, "foreign_target", before)


def test_unknown_module(tool):
    before = tool.counts()
    flow = tool.launch(custom={"module": "no-such-module"})
    rejected(tool, flow.launch, "unknown_module", before)


# --- transport -------------------------------------------------------------------------------------


def test_unknown_client_at_login(tool):
    before = tool.counts()
    rejected(tool, tool.start_login(client_id="who-is-this"), "unknown_client", before, 403)


def test_unknown_issuer_at_login(tool):
    before = tool.counts()
    rejected(tool, tool.start_login(iss="https://unknown.example.org"), "unknown_client", before, 403)


def test_oversized_token(tool):
    # over max_token_bytes (16 KiB) but within the request limit (twice that): the token check refuses it
    mutated(tool, "oversized_token", mutate=lambda c: c.update(padding="x" * 14_000))


def test_oversized_request(tool):
    # over twice max_token_bytes: refused from Content-Length before the form is parsed
    mutated(tool, "oversized_request", mutate=lambda c: c.update(padding="x" * 40_000))


def test_id_token_by_get(tool):
    flow = tool.launch(custom={"module": "grundlagen"}, post=False)
    before = tool.counts()
    response = tool.client.get("/lti/launch", params=flow.fields)
    rejected(tool, response, "id_token_by_get", before, 405)


def test_platform_keys_unreachable(tool, platform):
    platform.down = True
    try:
        with tool.tool.Session() as session:  # forget the cached key set
            from lti.db import Platform

            for row in session.query(Platform):
                row.jwks, row.jwks_fetched_at = None, 0
            session.commit()
        with tool.tool.store.connection() as connection:  # the launch path holds registrations in memory
            tool.tool.platforms.reload(connection)
        before = tool.counts()
        flow = tool.launch(custom={"module": "grundlagen"}, post=False)
        rejected(tool, tool.client.post("/lti/launch", data=flow.fields), "jwks_unavailable", before, 502)
    finally:
        platform.down = False


@pytest.mark.parametrize("name", ["context", "resource_link", "custom", "launch_presentation"])
def test_claims_of_the_wrong_type_give_an_error_page_not_a_crash(tool, name):
    before = tool.counts()
    flow = tool.launch(custom={"module": "grundlagen"}, mutate=lambda c: c.update({LTI + name: "not-an-object"}))
    if flow.launch.status_code == 303:  # an optional claim we can do without: the launch works
        tool.play(flow)
    else:
        assert flow.launch.status_code < 500 and "(" in flow.launch.text
        assert tool.counts() == before
