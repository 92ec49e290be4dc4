"""Deep linking and grades: the content items, the score outbox and its behaviour under faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from lti import ags
from lti.db import OutboxScore
from lti_harness import REPO, Tool, pypi_launch, tool_with_pypi_platform
from lti_platform import ROLE_INSTRUCTOR, SCORE_TYPE, MoodleLikePlatform, form_fields
from test_lti_launch import csrf_of, put_state


def earn(tool: Tool, launch_id: str, page: str, score: float) -> None:
    """Submit an attempt whose answers earn `score`: the tool grades, the page sends answers only."""
    response = tool.submit(launch_id, page, tool.answers_scoring("grundlagen", score))
    assert response.status_code == 200, response.text
    assert response.json()["score"] == score

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


@pytest.fixture
def platform():
    p = MoodleLikePlatform()
    yield p
    p.stop()


@pytest.fixture
def tool(platform, tmp_path):
    t = Tool(tmp_path / "data", platform)
    yield t
    t.close()


def deliver_all(tool: Tool) -> None:
    while ags.run_once(tool.tool.background, tool.tool.http, ags.OutboxPolicy(base_delay=0.0, lease_seconds=2)):
        pass


def back_online_and_deliver(tool: Tool, platform: MoodleLikePlatform) -> None:
    platform.down = False
    with tool.tool.Session() as session:  # skip the backoff wait
        for row in session.scalars(select(OutboxScore)):
            row.next_attempt_at = 0
        session.commit()
    deliver_all(tool)


def outbox(tool: Tool) -> list[OutboxScore]:
    with tool.tool.Session() as session:
        return session.scalars(select(OutboxScore).order_by(OutboxScore.id)).all()


def learner_with_score(tool: Tool, platform: MoodleLikePlatform, user: str, lineitem: str, *scores: float) -> None:
    platform.enrol(user)
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, lineitem=lineitem,
                                            resource_link="rl-graded"))
    assert put_state(tool, launch_id, csrf_of(page), {"progress": 1.0, "completion": "completed"}).status_code == 204
    for score in scores:
        earn(tool, launch_id, page, score)


def test_a_link_without_a_line_item_gets_one_and_its_scores_arrive(tool, platform):
    # Found against Moodle 4.5: links imported from a Common Cartridge have no grade item, so their
    # launches carry only the course's line item container and the scores went nowhere.
    platform.enrol("31")
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="31", resource_link="rl-cc"))
    assert len(platform.lineitems) == 1
    item = next(iter(platform.lineitems.values()))
    assert (item.resource_link_id, item.resource_id, item.score_maximum) == ("rl-cc", "grundlagen", 100)
    earn(tool, launch_id, page, 75.0)
    deliver_all(tool)
    assert item.scores["31"][1]["scoreGiven"] == 75
    # The next launch of that link (another process: nothing cached) finds the column, adds none.
    tool.tool.lineitems.clear()
    platform.enrol("32")
    tool.play(tool.launch(custom={"module": "grundlagen"}, user="32", resource_link="rl-cc"))
    assert len(platform.lineitems) == 1
    # A score from before the column existed (learner 33's first launch failed to make one) is sent
    # at the learner's next launch.
    platform.enrol("33")
    platform.down = True
    early_id, early_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="33",
                                                 resource_link="rl-late"))
    platform.down = False
    earn(tool, early_id, early_page, 62.5)
    tool.play(tool.launch(custom={"module": "grundlagen"}, user="33", resource_link="rl-late"))
    deliver_all(tool)
    late = next(i for i in platform.lineitems.values() if i.resource_link_id == "rl-late")
    assert late.scores["33"][1]["scoreGiven"] == 62.5
    # Unreachable at the launch, back when the learner submits: the score itself makes the column.
    platform.enrol("34")
    platform.down = True
    down_id, down_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="34", resource_link="rl-down"))
    platform.down = False
    assert not any(i.resource_link_id == "rl-down" for i in platform.lineitems.values())
    earn(tool, down_id, down_page, 87.5)
    deliver_all(tool)
    down = next(i for i in platform.lineitems.values() if i.resource_link_id == "rl-down")
    assert down.scores["34"][1]["scoreGiven"] == 87.5
    # A link that has its line item, and a task link (no scores), get no new column.
    tool.play(tool.launch(custom={"module": "grundlagen"}, user="32", resource_link="rl-dl",
                          lineitem=platform.lineitem("rl-dl")))
    tool.play(tool.launch(custom={"task": "projekt"}, user="32", resource_link="rl-task"))
    assert len(platform.lineitems) == 4


# --- deep linking ---------------------------------------------------------------------------------


def test_deep_linking_returns_resource_links_with_line_items(tool, platform):
    flow = tool.launch(message_type="LtiDeepLinkingRequest", roles=[ROLE_INSTRUCTOR])
    assert flow.launch.status_code == 303
    picker = tool.client.get(flow.launch.headers["location"])
    assert picker.status_code == 200 and 'value="module:grundlagen"' in picker.text and 'value="task:projekt"' in picker.text
    csrf = picker.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = tool.client.post(flow.launch.headers["location"],
                              data={"csrf": csrf, "item": ["module:grundlagen", "task:projekt"]})
    action, fields = form_fields(answer.text)
    assert action.startswith(platform.url + "/mod/lti/contentitem_return.php")
    assert httpx.post(action, data=fields, timeout=5).status_code == 200
    claims = platform.dl_responses[-1]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert claims["aud"] == platform.issuer and claims["iss"] == platform.client_id
    assert claims[DL + "data"] == 'opaque-data-{"a":1}'  # echoed unchanged
    items = claims[DL + "content_items"]
    assert [i["custom"] for i in items] == [{"module": "grundlagen"}, {"task": "projekt"}]
    for item in items:
        assert item["type"] == "ltiResourceLink" and item["url"] == "https://tool.test/lti/launch"
        assert item["lineItem"]["scoreMaximum"] == 100 and item["lineItem"]["label"] == item["title"]
        assert item["lineItem"]["resourceId"] and item["lineItem"]["tag"]


def test_deep_linking_post_needs_csrf(tool):
    flow = tool.launch(message_type="LtiDeepLinkingRequest", roles=[ROLE_INSTRUCTOR])
    answer = tool.client.post(flow.launch.headers["location"], data={"csrf": "x", "item": "module:grundlagen"})
    assert answer.status_code == 403


def test_deep_linking_with_lti1p3platform(tmp_path):
    with tool_with_pypi_platform(tmp_path / "data") as (tool, pypi):
        launch = pypi_launch(tool, pypi, "t1", deep_linking=True, roles=[ROLE_INSTRUCTOR]).launch
        picker = tool.client.get(launch.headers["location"])
        csrf = picker.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = tool.client.post(launch.headers["location"], data={"csrf": csrf, "item": "module:grundlagen"})
        action, fields = form_fields(answer.text)
        assert httpx.post(action, data=fields, timeout=5).status_code == 200
        assert [i["custom"] for i in pypi.dl_items[-1]] == [{"module": "grundlagen"}]


# --- scores --------------------------------------------------------------------------------------


def test_score_reaches_the_gradebook_the_moodle_way(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    learner_with_score(tool, platform, "11", lineitem, 87.5)
    deliver_all(tool)
    post = platform.score_posts[-1]
    assert post["content_type"] == SCORE_TYPE and post["query"] == "type_id=2"
    item = platform.lineitems["1"]
    stamp, score = item.scores["11"]
    assert score["scoreGiven"] == 87.5 and score["scoreMaximum"] == 100
    assert score["gradingProgress"] == "FullyGraded" and score["activityProgress"] == "Completed"
    assert [row.status for row in outbox(tool)] == ["delivered"]


def test_scores_in_one_second_get_increasing_timestamps_and_one_token(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    learner_with_score(tool, platform, "12", lineitem, 37.5, 87.5)
    deliver_all(tool)
    received = platform.lineitems["1"].received
    assert [s["scoreGiven"] for s in received] == [37.5, 87.5]
    assert [row.status for row in outbox(tool)] == ["delivered"] * 2
    assert platform.token_requests == 1  # cached


def test_an_attempt_that_does_not_raise_the_best_score_queues_none(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    learner_with_score(tool, platform, "13", lineitem, 75.0, 75.0)
    assert len(outbox(tool)) == 1


def test_one_refresh_on_401(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    learner_with_score(tool, platform, "14", lineitem, 75.0)
    deliver_all(tool)
    platform.unauthorized_once = True
    learner_with_score(tool, platform, "15", lineitem, 50.0)
    deliver_all(tool)
    assert platform.token_requests == 2
    assert [row.status for row in outbox(tool)] == ["delivered", "delivered"]


def test_a_non_student_is_not_retried(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="99", lineitem=lineitem))
    earn(tool, launch_id, page, 25.0)
    deliver_all(tool)
    (row,) = outbox(tool)
    assert row.status == "failed" and row.attempts == 0 and "400" in row.last_error


def test_platform_down_then_up_delivers_every_score_exactly_once(tool, platform):
    lineitem = platform.lineitem("rl-graded")
    tool.play(tool.launch(custom={"module": "grundlagen"}))  # the platform's keys are cached from here on
    platform.down = True
    for user in ("21", "22", "23"):
        learner_with_score(tool, platform, user, lineitem, 50.0, 87.5)
    policy = ags.OutboxPolicy(base_delay=0.0, lease_seconds=2)
    for _ in range(3):
        ags.run_once(tool.tool.background, tool.tool.http, policy)
    rows = outbox(tool)
    assert all(row.status == "pending" and row.attempts >= 1 for row in rows[:1])
    assert platform.lineitems["1"].received == []
    back_online_and_deliver(tool, platform)
    received = platform.lineitems["1"].received
    assert sorted((s["userId"], s["scoreGiven"]) for s in received) == sorted(
        [(u, v) for u in ("21", "22", "23") for v in (50.0, 87.5)])
    assert all(row.status == "delivered" for row in outbox(tool))


def test_a_score_waits_for_its_column_while_the_platform_is_down(tool, platform):
    # A link imported from a Common Cartridge (no line item) launched while the platform is unreachable:
    # the column cannot be made at the launch, nor when the scores are earned. They wait in the outbox
    # with what the column needs; once the platform is back, one column is made and each score arrives once.
    tool.play(tool.launch(custom={"module": "grundlagen"}, resource_link="rl-warm"))  # keys cached
    before = len(platform.lineitems)
    platform.down = True
    for user, scores in (("41", (37.5, 75.0)), ("42", (87.5,))):
        platform.enrol(user)
        launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user=user, resource_link="rl-out"))
        for score in scores:
            earn(tool, launch_id, page, score)
    ags.run_once(tool.tool.background, tool.tool.http, ags.OutboxPolicy(base_delay=0.0, lease_seconds=2))
    assert len(platform.lineitems) == before
    assert all(row.status == "pending" for row in outbox(tool))
    back_online_and_deliver(tool, platform)
    made = [item for item in platform.lineitems.values() if item.resource_link_id == "rl-out"]
    module = tool.tool.course.module("grundlagen")
    assert len(made) == 1 and (made[0].label, made[0].resource_id) == (module.title, module.id)
    by_user = {u: [s["scoreGiven"] for s in made[0].received if s["userId"] == u] for u in ("41", "42")}
    assert by_user == {"41": [37.5, 75.0], "42": [87.5]}  # each once, each learner's in order
    assert all(ags.COLUMN_KEY not in s for s in made[0].received)
    assert {row.status for row in outbox(tool)} == {"delivered"} and {row.lineitem_url for row in outbox(tool)} == {made[0].id}
    # The next launch of the link finds the column: no second one, and its scores go there directly.
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="42", resource_link="rl-out"))
    earn(tool, launch_id, page, 100.0)
    deliver_all(tool)
    assert len([i for i in platform.lineitems.values() if i.resource_link_id == "rl-out"]) == 1
    assert made[0].scores["42"][1]["scoreGiven"] == 100.0


def test_a_waiting_score_never_overwrites_a_later_one(tool, platform):
    tool.play(tool.launch(custom={"module": "grundlagen"}, resource_link="rl-warm"))  # keys cached
    platform.enrol("51")
    platform.down = True
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="51", resource_link="rl-late2"))
    earn(tool, launch_id, page, 25.0)
    platform.down = False
    # Back online before the worker ran: the next launch makes the column, the new score goes there directly.
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="51", resource_link="rl-late2"))
    earn(tool, launch_id, page, 87.5)
    deliver_all(tool)
    item = next(i for i in platform.lineitems.values() if i.resource_link_id == "rl-late2")
    assert [s["scoreGiven"] for s in item.received] == [87.5]
    assert sorted(row.status for row in outbox(tool)) == ["delivered", "superseded"]


def test_backoff_doubles_up_to_the_limit(tool, platform):
    policy = ags.OutboxPolicy(base_delay=4.0, max_delay=20.0, lease_seconds=2)
    assert [ags.retry_delay(policy, n) for n in range(1, 6)] == [4, 8, 16, 20, 20]
    lineitem = platform.lineitem("rl-graded")
    tool.play(tool.launch(custom={"module": "grundlagen"}))
    platform.down = True
    learner_with_score(tool, platform, "31", lineitem, 12.5)
    client = tool.tool.http
    with tool.tool.background() as session:
        for attempt in (1, 2, 3):
            (row,) = ags.claim(session, policy, 10)
            before = int(time.time())
            ags.deliver(session, row, client, policy)
            after = int(time.time())
            assert row.attempts == attempt and row.status == "pending"
            assert before + ags.retry_delay(policy, attempt) <= row.next_attempt_at <= after + ags.retry_delay(policy, attempt)
            assert ags.claim(session, policy, 10) == []  # not due yet
            row.next_attempt_at = 0
            session.commit()


def test_worker_killed_mid_delivery_loses_nothing(tool, platform, tmp_path):
    lineitem = platform.lineitem("rl-graded")
    for user in ("41", "42"):
        learner_with_score(tool, platform, user, lineitem, 62.5)
    platform.score_delay = 30.0  # the platform stores the score, then answers slowly
    env = dict(os.environ, COURSE_LTI_DATA=str(tool.settings.data_dir), COURSE_LTI_DEV="1")
    command = [sys.executable, "-m", "course_builder.cli", "lti", "worker", "--lease", "1", "--base-delay", "0"]
    worker = subprocess.Popen([sys.executable, "-c", "from course_builder.cli import main; main()",
                               *command[3:]], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while not platform.lineitems["1"].received and time.time() < deadline:
            time.sleep(0.05)
        assert platform.lineitems["1"].received, "the worker did not start delivering"
    finally:
        worker.send_signal(signal.SIGKILL)  # killed while waiting for the platform's answer
        worker.wait(timeout=10)
    assert any(row.status == "pending" for row in outbox(tool))
    platform.score_delay = 0.0
    # The dead worker's leases run out: 1 s counted in whole seconds, so up to 2 s after the claim.
    time.sleep(2.1)
    rerun = subprocess.run([sys.executable, "-c", "from course_builder.cli import main; main()", "lti", "worker",
                            "--once", "--lease", "1", "--base-delay", "0"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    received = platform.lineitems["1"].received
    assert sorted(s["userId"] for s in received) == ["41", "42"]  # each stored once, none lost
    assert all(row.status == "delivered" for row in outbox(tool))


def test_in_app_worker_delivers_without_help(platform, tmp_path):
    tool = Tool(tmp_path / "data", platform)
    tool.tool.worker = ags.Worker(tool.tool.background, tool.tool.outbound, ags.OutboxPolicy(base_delay=0.0), idle=0.05)
    tool.tool.worker.start()
    try:
        lineitem = platform.lineitem("rl-graded")
        learner_with_score(tool, platform, "51", lineitem, 75.0)
        deadline = time.time() + 10
        while not platform.lineitems["1"].received and time.time() < deadline:
            time.sleep(0.05)
        assert platform.lineitems["1"].received[0]["scoreGiven"] == 75.0
    finally:
        tool.tool.worker.stop()
        tool.close()


def test_scores_with_lti1p3platform(tmp_path):
    with tool_with_pypi_platform(tmp_path / "data") as (tool, pypi):
        launch_id, page = tool.play(pypi_launch(tool, pypi, "u1", module="grundlagen"))
        earn(tool, launch_id, page, 87.5)
        deliver_all(tool)
        assert [(s["userId"], s["scoreGiven"], s["line_item"]) for s in pypi.scores] == [("u1", 87.5, "7")]
