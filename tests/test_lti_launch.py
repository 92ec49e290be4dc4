"""Resource-link launches: the module page, progress per user and resource link, resume on another
device, the teacher's overview; a launch from the PyPI platform `lti1p3platform`."""

from __future__ import annotations

import html
import json

import httpx
import pytest

from lti_harness import (Tool, course, csrf_of, platform, pypi_launch, tool,  # noqa: F401 (fixtures)
                         tool_with_pypi_platform)
from lti_platform import ROLE_INSTRUCTOR


def put_state(tool: Tool, launch_id: str, csrf: str, body: dict) -> httpx.Response:
    return tool.client.put(f"/lti/state/{launch_id}", content=json.dumps(body),
                           headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})


FIRST_QUESTION = course().quiz_for("grundlagen").questions[0].id
STATE = {"location": "lesson-einstieg", "state": "v1|q=a1", "progress": 0.5, "completion": "incomplete",
         "success": "unknown", "score": None, "final": False,
         "interactions": [{"id": FIRST_QUESTION, "type": "choice", "correct": ["a1"], "response": "a2",
                           "result": "incorrect", "weighting": 1, "latency": "PT12S",
                           "timestamp": "2027-02-17T16:31:02Z"}]}


def test_page_carries_the_http_adapter_contract(tool):
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}))
    data = json.loads(page.split('id="player-data">', 1)[1].split("</script>", 1)[0])
    assert data["lms"] == "http" and data["stateUrl"] == f"/lti/state/{launch_id}" and data["csrf"]
    assert data["module"] == "grundlagen"
    assert tool.client.get("/lti/static/learner.js").status_code == 200
    assert 'href="/lti/static/learner.css"' in page or "/lti/static/learner.css" in page


def test_media_files_are_served(tool):
    _, page = tool.play(tool.launch(custom={"module": "grundlagen"}))
    assert "/lti/files/modules/01-grundlagen/media/karte.svg" in page
    assert tool.client.get("/lti/files/modules/01-grundlagen/media/karte.svg").status_code == 200
    assert tool.client.get("/lti/files/course.yaml").status_code == 404  # only media the pages show


def test_state_round_trip_and_resume_on_another_device(tool, platform):
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="501", resource_link="rl-resume"))
    empty = tool.state(launch_id, page)
    assert empty.status_code == 200
    assert empty.json() == {"location": None, "state": None,
                            "quiz": {"attempts": 0, "best": None, "last": None, "review": None, "checked": {}}}
    assert put_state(tool, launch_id, csrf_of(page), STATE).status_code == 204
    # Another device: a new launch of the same user and resource link, with a fresh browser.
    tool.client.cookies.clear()
    other_id, other_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="501", resource_link="rl-resume"))
    assert other_id != launch_id
    resumed = tool.state(other_id, other_page).json()
    assert (resumed["location"], resumed["state"]) == ("lesson-einstieg", "v1|q=a1")


def test_progress_is_per_resource_link_and_per_user(tool):
    a_id, a_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="601", resource_link="rl-a"))
    put_state(tool, a_id, csrf_of(a_page), STATE)
    b_id, b_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="601", resource_link="rl-b"))
    c_id, c_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="602", resource_link="rl-a"))
    assert tool.state(b_id, b_page).json()["state"] is None
    assert tool.state(c_id, c_page).json()["state"] is None


def test_put_needs_the_csrf_token(tool):
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="701"))
    assert put_state(tool, launch_id, "wrong", STATE).status_code == 403
    response = tool.client.put(f"/lti/state/{launch_id}", content=json.dumps(STATE),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert tool.state(launch_id, page).json()["state"] is None


@pytest.mark.parametrize("bad", [{"completion": "done"}, {"progress": "half"}, {"location": 3},
                                 ["not", "an", "object"]])
def test_invalid_state_is_refused(tool, bad):
    launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="702"))
    response = tool.client.put(f"/lti/state/{launch_id}", content=json.dumps(bad),
                               headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})
    assert response.status_code == 422


def test_unknown_launch_id_is_refused(tool):
    assert tool.client.get("/lti/state/not-a-launch").status_code == 403
    assert tool.client.get("/lti/play/not-a-launch").status_code == 403


def test_module_chosen_by_target_link_uri_query(tool):
    target = "https://tool.test/lti/launch?module=grundlagen"
    _, page = tool.play(tool.launch(target=target))
    assert '"module":"grundlagen"' in page


def test_teacher_overview_shows_progress_scores_and_question_results(tool):
    link = "rl-overview"
    learner_id, learner_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="801", name="Ada Lovelace",
                                                     resource_link=link))
    done = dict(STATE, progress=1.0, completion="completed")
    put_state(tool, learner_id, csrf_of(learner_page), done)
    assert tool.submit(learner_id, learner_page, tool.answers_scoring("grundlagen", 100)).status_code == 200
    second_id, second_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="802", resource_link=link))
    put_state(tool, second_id, csrf_of(second_page), done)
    assert tool.submit(second_id, second_page, tool.answers_scoring("grundlagen", 37.5)).status_code == 200
    teacher_id, teacher_page = tool.play(tool.launch(custom={"module": "grundlagen"}, user="900",
                                                     roles=[ROLE_INSTRUCTOR], resource_link=link))
    assert f"/lti/teacher/{teacher_id}" in teacher_page
    overview = tool.client.get(f"/lti/teacher/{teacher_id}")
    assert overview.status_code == 200
    row = overview.text.split('data-user="801"', 1)[1].split("</tr>", 1)[0]
    assert "Ada Lovelace" in row and "100 %" in row and '<td data-score="100.0">100</td>' in row
    assert 'data-completion="completed"' in row and 'data-success="passed"' in row
    assert "result-correct" in row
    # Per question: the question's name for the teacher, 1 of 2 learners answered the first one correctly.
    first = course().quiz_for("grundlagen").questions[0]
    per_question = overview.text.split(f'data-question="{FIRST_QUESTION}"', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{html.escape(first.name)}</td><td>1</td><td>2</td>" in per_question
    second = overview.text.split('data-user="802"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-score="37.5">37,5</td>' in second  # the mini course is German: decimal comma
    assert 'data-success="failed"' in second
    # The teacher's own try of the module (found against Moodle 4.5) is no learner row.
    put_state(tool, teacher_id, csrf_of(teacher_page), dict(STATE, progress=0.5))
    overview = tool.client.get(f"/lti/teacher/{teacher_id}")
    assert 'data-user="900"' not in overview.text and 'data-learners="2"' in overview.text
    # learners do not get the overview
    assert tool.client.get(f"/lti/teacher/{learner_id}").status_code == 403


def test_project_task_launch(tool):
    launch_id = tool.play(tool.launch(custom={"task": "projekt"}))[0]
    assert launch_id


def test_launch_from_lti1p3platform(tmp_path):
    with tool_with_pypi_platform(tmp_path / "data") as (tool, pypi):
        launch_id, page = tool.play(pypi_launch(tool, pypi, "u1", module="grundlagen"))
        assert '"module":"grundlagen"' in page
        assert put_state(tool, launch_id, csrf_of(page), STATE).status_code == 204
