"""Registration: `course lti register` (manual) and LTI Dynamic Registration."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from conftest import run_course
from lti_harness import Tool
from lti_platform import MoodleLikePlatform


def test_dynamic_registration_then_launch(tmp_path):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data")  # knows no platform yet
    platform.tool_socket_url = tool.server.url
    try:
        config = platform.url + "/mod/lti/openid-configuration.php"
        url = tool.registration_path() + "?" + urlencode({"openid_configuration": config,
                                                          "registration_token": platform.registration_token})
        page = tool.client.get(url)
        assert page.status_code == 200, page.text
        assert "org.imsglobal.lti.close" in page.text and "postMessage" in page.text
        sent = platform.registrations[-1]
        assert sent["initiate_login_uri"] == "https://tool.test/lti/login"
        assert sent["redirect_uris"] == ["https://tool.test/lti/launch"]
        assert sent["jwks_uri"] == "https://tool.test/.well-known/jwks.json"
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
        tool.platform = platform
        tool.play(tool.launch(custom={"module": "grundlagen"}))  # the stored registration works
        fetches = platform.config_fetches
        again = tool.client.get(url)  # the URL works once
        assert again.status_code == 403 and "(registration_token)" in again.text
        assert platform.config_fetches == fetches
    finally:
        tool.close()
        platform.stop()


def test_dynamic_registration_with_a_wrong_platform_token_stores_nothing(tmp_path):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data")
    try:
        config = platform.url + "/mod/lti/openid-configuration.php"
        page = tool.client.get(tool.registration_path() + "?" + urlencode({"openid_configuration": config,
                                                                           "registration_token": "wrong"}))
        assert page.status_code == 502 and "(registration_failed)" in page.text
        assert "401" not in page.text and str(platform.server.port) not in page.text  # details only in the log
        assert tool.snapshot() == []
    finally:
        tool.close()
        platform.stop()


def test_dynamic_registration_url_from_the_command_line_works_once(tmp_path):
    import hashlib

    from sqlalchemy import select

    from lti.db import RegistrationToken

    data = tmp_path / "data"
    made = run_course("lti", "register", "--dynamic", "--valid-for", "30m", "--data", str(data),
                      "--url", "https://tool.test")
    assert made.code == 0, made.output
    url = next(word for word in made.stdout.split() if word.startswith("https://tool.test/lti/register/"))
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 40 and "works once" in made.stdout
    platform = MoodleLikePlatform()
    tool = Tool(data)  # the same database the command wrote to
    platform.tool_socket_url = tool.server.url
    try:
        with tool.tool.Session() as session:
            (row,) = session.scalars(select(RegistrationToken)).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is stored
        assert row.expires_at - row.created_at == 1800 and row.used_at is None
        query = "?" + urlencode({"openid_configuration": platform.url + "/mod/lti/openid-configuration.php",
                                 "registration_token": platform.registration_token})
        assert tool.client.get(url.removeprefix("https://tool.test") + query).status_code == 200
        assert [p["client_id"] for p in tool.snapshot()] == [platform.client_id]
    finally:
        tool.close()
        platform.stop()
    assert run_course("lti", "register", "--dynamic", "--valid-for", "soon", "--data", str(data)).code == 2
    listed = run_course("lti", "registration-urls", "--data", str(data)).stdout
    assert "   1  made " in listed and "  used " in listed and token not in listed


def test_an_unused_registration_url_can_be_revoked(tmp_path):
    data = tmp_path / "data"
    made = run_course("lti", "register", "--dynamic", "--name", "Moodle OL", "--data", str(data),
                      "--url", "https://tool.test")
    url = next(word for word in made.stdout.split() if word.startswith("https://tool.test/lti/register/"))
    assert "usable until" in run_course("lti", "registration-urls", "--data", str(data)).stdout
    revoked = run_course("lti", "registration-urls", "--data", str(data), "--revoke", "1", "--revoke", "7")
    assert "1: revoked" in revoked.stdout and "7: no unused registration URL" in revoked.stdout
    assert "revoked  (Moodle OL)" in revoked.stdout
    platform = MoodleLikePlatform()
    tool = Tool(data)
    try:
        query = "?" + urlencode({"openid_configuration": platform.url + "/mod/lti/openid-configuration.php",
                                 "registration_token": platform.registration_token})
        page = tool.client.get(url.removeprefix("https://tool.test") + query)
        assert page.status_code == 403 and platform.config_fetches == 0
    finally:
        tool.close()
        platform.stop()


def test_update_platform_asks_before_changing_the_key_set_url(tmp_path):
    from click.testing import CliRunner

    from course_builder.cli import cli

    data = str(tmp_path / "data")
    base = ["lti", "register", "--data", data, "--moodle", "https://moodle.example.org", "--client-id", "abc",
            "--deployment-id", "7"]
    assert run_course(*base).code == 0
    change = ["lti", "update-platform", "--data", data, "--issuer", "https://moodle.example.org", "--client-id", "abc",
              "--jwks-url", "https://keys.example.org/jwks"]
    declined = CliRunner().invoke(cli, change, input="n\n")
    assert declined.exit_code == 1 and "https://moodle.example.org/mod/lti/certs.php -> https://keys.example.org/jwks" \
        in declined.stdout
    listed = run_course("lti", "platforms", "--data", data, "--verbose").stdout
    assert "https://moodle.example.org/mod/lti/certs.php" in listed and "keys.example.org" not in listed
    assert CliRunner().invoke(cli, change, input="y\n").exit_code == 0
    assert "https://keys.example.org/jwks" in run_course("lti", "platforms", "--data", data, "--verbose").stdout
    scripted = run_course(*change[:-1], "https://keys2.example.org/jwks", "--yes")
    assert scripted.code == 0 and "keys2.example.org" in run_course("lti", "platforms", "--data", data, "--verbose").stdout


def test_registering_a_known_platform_again_never_changes_its_urls(tmp_path):
    data = str(tmp_path / "data")
    base = ["lti", "register", "--data", data, "--moodle", "https://moodle.example.org", "--client-id", "abc"]
    assert run_course(*base, "--deployment-id", "7").code == 0
    other = run_course(*base, "--deployment-id", "7", "--jwks-url", "https://evil.example.org/jwks")
    assert other.code == 1 and "update-platform" in other.stderr
    assert "evil" not in run_course("lti", "platforms", "--data", data, "--verbose").stdout
    more = run_course(*base, "--deployment-id", "8")  # the same URLs: an administrator adds a deployment
    assert more.code == 0 and "deployments added: 8" in more.stdout
    assert "deployments 7, 8" in run_course("lti", "platforms", "--data", data).stdout


def test_manual_registration_prints_urls_and_stores_the_platform(tmp_path):
    data = str(tmp_path / "data")
    shown = run_course("lti", "register", "--data", data, "--url", "https://lti.example.org")
    assert shown.code == 0
    assert "https://lti.example.org/lti/login" in shown.stdout
    assert "https://lti.example.org/.well-known/jwks.json" in shown.stdout
    assert "https://lti.example.org/lti/launch" in shown.stdout
    stored = run_course("lti", "register", "--data", data, "--url", "https://lti.example.org",
                        "--moodle", "https://moodle.example.org", "--client-id", "abc", "--deployment-id", "7")
    assert stored.code == 0, stored.output
    listed = run_course("lti", "platforms", "--data", data)
    assert "https://moodle.example.org" in listed.stdout and "abc" in listed.stdout and "7" in listed.stdout
    incomplete = run_course("lti", "register", "--data", data, "--issuer", "https://x.example.org")
    assert incomplete.code == 2


def test_key_rotation_command(tmp_path):
    data = str(tmp_path / "data")
    first = run_course("lti", "keys", "--data", data).stdout.split()
    rotated = run_course("lti", "keys", "--data", data, "--rotate").stdout
    next_kid = first[first.index("next") + 1]
    assert f"active key is now {next_kid}" in rotated


@pytest.mark.parametrize("database, reason", [
    ("postgresql://tool:secret@127.0.0.1:1/lti", "Connection refused"),  # nothing listens on port 1
    ("sqlite:////proc/no-such-folder/lti.sqlite3", "No such file or directory"),
    ("mysqlish://x", "Can't load plugin"),
])
def test_a_database_that_cannot_be_opened_is_an_error_message_not_a_crash(database, reason):
    result = run_course("lti", "platforms", "--database", database)
    assert result.exception is None and result.code != 0
    assert "cannot open the database" in result.stderr and reason in result.stderr
    assert "secret" not in result.stderr  # the password is not shown
