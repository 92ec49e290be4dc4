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
        page = tool.client.get("/lti/register?" + urlencode({"openid_configuration": config,
                                                             "registration_token": platform.registration_token}))
        assert page.status_code == 200, page.text
        assert "org.imsglobal.lti.close" in page.text and "postMessage" in page.text
        sent = platform.registrations[-1]
        assert sent["initiate_login_uri"] == "https://tool.test/lti/login"
        assert sent["redirect_uris"] == ["https://tool.test/lti/launch"]
        assert sent["jwks_uri"] == "https://tool.test/.well-known/jwks.json"
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
        tool.platform = platform
        tool.play(tool.launch(custom={"module": "grundlagen"}))  # the stored registration works
    finally:
        tool.close()
        platform.stop()


def test_dynamic_registration_with_a_wrong_token_stores_nothing(tmp_path):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data")
    try:
        config = platform.url + "/mod/lti/openid-configuration.php"
        page = tool.client.get("/lti/register?" + urlencode({"openid_configuration": config,
                                                             "registration_token": "wrong"}))
        assert page.status_code == 502 and "(registration_failed)" in page.text
        from lti.db import Platform

        with tool.tool.Session() as session:
            assert session.query(Platform).count() == 0
    finally:
        tool.close()
        platform.stop()


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
