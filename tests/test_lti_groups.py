"""Roster sync (NRPS, Link-header paging) and project groups."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from hypothesis import given, strategies as st

from lti.groups import form_groups, group_sizes
from lti_harness import Tool, pypi_launch, tool_with_pypi_platform
from lti_platform import ROLE_INSTRUCTOR, MoodleLikePlatform


@given(st.integers(min_value=6, max_value=400))
def test_group_sizes_are_four_and_never_under_three(n):
    sizes = group_sizes(n)
    assert sum(sizes) == n and min(sizes) >= 3 and max(sizes) <= 4
    assert sum(1 for size in sizes if size != 4) <= 3  # as many fours as the number allows


@pytest.mark.parametrize("n,expected", [(1, [1]), (5, [5]), (6, [3, 3]), (7, [4, 3]), (8, [4, 4]), (9, [3, 3, 3]),
                                        (11, [4, 4, 3]), (13, [4, 3, 3, 3]), (21, [4, 4, 4, 3, 3, 3])])
def test_group_sizes_examples(n, expected):
    assert group_sizes(n) == expected


@given(st.lists(st.sampled_from(["Nord", "Süd", "Ost", "West", ""]), min_size=6, max_size=80))
def test_regions_are_spread_over_the_groups(regions):
    people = [(f"u{i}", r) for i, r in enumerate(regions)]
    groups = form_groups(people)
    count = len(set(groups.values()))
    for region, total in Counter(regions).items():
        per_group = Counter(groups[u] for u, r in people if r == region)
        # every group gets its share of a region: never more than one above the even split
        assert max(per_group.values()) <= -(-total // count) + 1
    assert form_groups(list(reversed(people))) == groups  # order of the roster does not matter


@pytest.fixture
def platform():
    p = MoodleLikePlatform()
    p.page_size = 3
    yield p
    p.stop()


def teacher(tool: Tool) -> str:
    flow = tool.launch(custom={"module": "grundlagen"}, user="t1", roles=[ROLE_INSTRUCTOR])
    return tool.play(flow)[0]


def csrf(tool: Tool, launch_id: str) -> str:
    page = tool.client.get(f"/lti/groups/{launch_id}").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_roster_sync_follows_link_pages_and_groups_form(platform, tmp_path):
    regions = ["Nord", "Nord", "Nord", "Süd", "Süd", "Süd", "Ost", "Ost", "West", "West", ""]
    for i, region in enumerate(regions):
        platform.enrol(f"s{i}", name=f"Person {i:02}", region=region)
    platform.enrol("t1", name="Lehrkraft", role="Instructor")
    tool = Tool(tmp_path / "data", platform)
    try:
        launch_id = teacher(tool)
        token = csrf(tool, launch_id)
        assert tool.client.post(f"/lti/groups/{launch_id}/do/sync", data={"csrf": token}).status_code == 303
        page = tool.client.get(f"/lti/groups/{launch_id}").text
        assert page.count('<tr data-user="') == 11  # four pages of three; the instructor is not grouped
        table = "user_id,region\n" + "\n".join(f"s{i},{r}" for i, r in enumerate(regions))
        response = tool.client.post(f"/lti/groups/{launch_id}/do/regions", data={"csrf": token},
                                    files={"file": ("regions.csv", table.encode(), "text/csv")})
        assert response.status_code == 303
        tool.client.post(f"/lti/groups/{launch_id}/do/form", data={"csrf": token})
        exported = list(csv.DictReader(io.StringIO(tool.client.get(f"/lti/groups/{launch_id}/export/groups.csv").text)))
        sizes = Counter(row["group"] for row in exported)
        assert sorted(sizes.values()) == [3, 4, 4]
        by_region = Counter((row["group"], row["region"]) for row in exported if row["region"] == "Nord")
        assert max(by_region.values()) == 1  # the three from Nord are in three different groups
        # the teacher moves someone; the export follows
        moved = exported[0]["user_id"]
        tool.client.post(f"/lti/groups/{launch_id}/do/save", data={"csrf": token, f"group-{moved}": "Projektgruppe 9"})
        again = list(csv.DictReader(io.StringIO(tool.client.get(f"/lti/groups/{launch_id}/export/groups.csv").text)))
        assert {r["user_id"]: r["group"] for r in again}[moved] == "Projektgruppe 9"
        moodle_groups = tool.client.get(f"/lti/groups/{launch_id}/export/moodle-groups.csv").text.splitlines()
        assert moodle_groups[0] == "groupname,description" and len(moodle_groups) == 1 + 4
        members = list(csv.DictReader(io.StringIO(
            tool.client.get(f"/lti/groups/{launch_id}/export/moodle-members.csv").text)))
        assert {m["course1"] for m in members} == {"NWK"} and len(members) == 11
        assert all(m["username"].startswith("us") for m in members)
    finally:
        tool.close()


def test_group_pages_are_for_teachers_only(platform, tmp_path):
    tool = Tool(tmp_path / "data", platform)
    try:
        learner = tool.play(tool.launch(custom={"module": "grundlagen"}, user="s1"))[0]
        assert tool.client.get(f"/lti/groups/{learner}").status_code == 403
        launch_id = teacher(tool)
        assert tool.client.post(f"/lti/groups/{launch_id}/do/form", data={"csrf": "nope"}).status_code == 403
    finally:
        tool.close()


def test_learner_sees_their_group_in_the_project_task(platform, tmp_path):
    for i in range(6):
        platform.enrol(f"s{i}", name=f"Person {i}")
    tool = Tool(tmp_path / "data", platform)
    try:
        launch_id = teacher(tool)
        token = csrf(tool, launch_id)
        tool.client.post(f"/lti/groups/{launch_id}/do/sync", data={"csrf": token})
        tool.client.post(f"/lti/groups/{launch_id}/do/form", data={"csrf": token})
        flow = tool.launch(custom={"task": "projekt"}, user="s0")
        page = tool.client.get(flow.launch.headers["location"]).text
        assert "Projektgruppe" in page and "Person 0" in page
    finally:
        tool.close()


def test_roster_from_lti1p3platform(tmp_path):
    from lti.db import Launch
    from lti.nrps import sync_roster

    with tool_with_pypi_platform(tmp_path / "data") as (tool, pypi):
        launch = pypi_launch(tool, pypi, "u9", module="grundlagen", roles=[ROLE_INSTRUCTOR]).launch
        launch_id = launch.headers["location"].rsplit("/", 1)[-1]
        with tool.tool.background() as session:
            assert sync_roster(session, session.get(Launch, launch_id), tool.tool.http) == 2
