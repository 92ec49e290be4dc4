"""`course serve`: the real server process (uvicorn) starts, migrates and answers; a broken course stops it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from conftest import MINI, REPO

COURSE = [sys.executable, "-c", "from course_builder.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_with_keys_and_module_assets(tmp_path):
    port = free_port()
    env = dict(os.environ, COURSE_LTI_DATA=str(tmp_path / "data"))
    server = subprocess.Popen(COURSE + ["serve", str(MINI), "--port", str(port), "--no-worker"], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError(server.stderr.read1().decode() if server.stderr else "no server")
        keys = httpx.get(base + "/.well-known/jwks.json", timeout=5).json()["keys"]
        assert len(keys) == 2 and all(k["alg"] == "RS256" and k["kty"] == "RSA" and "d" not in k for k in keys)
        assert httpx.get(base + "/lti/static/learner.js", timeout=5).status_code == 200
        launch = httpx.get(base + "/lti/launch?id_token=x&state=y", timeout=5)
        assert launch.status_code == 405 and "(id_token_by_get)" in launch.text
        assert (tmp_path / "data" / "lti.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_listens_on_the_port_of_a_loopback_url(tmp_path):
    # Found against Moodle 4.5: `--url http://127.0.0.1:8090` alone listened on 8000, so Moodle's
    # dynamic registration of http://127.0.0.1:8090/lti/register reached nothing.
    port = free_port()
    env = dict(os.environ, COURSE_LTI_DATA=str(tmp_path / "data"))
    server = subprocess.Popen(COURSE + ["serve", str(MINI), "--url", f"http://127.0.0.1:{port}", "--no-worker"],
                              env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError(server.stderr.read1().decode() if server.stderr else "no server")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_refuses_a_course_with_errors(tmp_path, mini):
    (mini / "course.yaml").write_text("id: [broken\n", encoding="utf-8")
    result = subprocess.run(COURSE + ["serve", str(mini), "--port", str(free_port())], cwd=REPO, capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, COURSE_LTI_DATA=str(tmp_path / "data")))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "error" in result.stderr.lower()
