"""Target cc: Common Cartridge 1.1 and 1.3 with one LTI link per module, in folders like the course."""

from __future__ import annotations

import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from conftest import MINI, REPO, run_course

BLTI = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
VERSIONS = {"cc11": ("http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1", "1.1.0", "imsbasiclti_xmlv1p0"),
            "cc13": ("http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1", "1.3.0", "imsbasiclti_xmlv1p3")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("cc")
    result = run_course("build", str(REPO), "-t", "cc", "-o", str(out), "-O", "lti_url=https://lti.example.org")
    assert result.code == 0, result.output
    return out / "cc"


@pytest.mark.parametrize("suffix", sorted(VERSIONS))
def test_cartridge_has_a_folder_and_link_per_module(built, suffix):
    from course_builder import check

    course, _ = check(REPO)
    ns, schema_version, link_type = VERSIONS[suffix]
    with zipfile.ZipFile(built / f"{course.id}-{suffix}.imscc") as archive:
        manifest = etree.fromstring(archive.read("imsmanifest.xml"))
        assert manifest.findtext(f"{{{ns}}}metadata/{{{ns}}}schemaversion") == schema_version
        root_item = manifest.find(f"{{{ns}}}organizations/{{{ns}}}organization/{{{ns}}}item")
        folders = root_item.findall(f"{{{ns}}}item")
        if suffix == "cc11":
            # Moodle numbers the folders as sections from 0: an empty first folder keeps section 0 for itself.
            general = folders.pop(0)
            assert general.findtext(f"{{{ns}}}title") == course.title and general.find(f"{{{ns}}}item") is None
        titles = [f.findtext(f"{{{ns}}}title") for f in folders]
        assert titles[:len(course.modules)] == [m.title for m in course.modules]
        resources = {r.get("identifier"): r for r in manifest.iter(f"{{{ns}}}resource")}
        launched = []
        for folder in folders:
            for item in folder.findall(f"{{{ns}}}item"):
                resource = resources[item.get("identifierref")]
                assert resource.get("type") == link_type
                link = etree.fromstring(archive.read(resource.find(f"{{{ns}}}file").get("href")))
                url = link.findtext(f"{{{BLTI}}}launch_url")
                assert url.startswith("https://lti.example.org/lti/launch?")
                custom = {p.get("name"): p.text for p in link.iter("{http://www.imsglobal.org/xsd/imslticm_v1p0}property")}
                assert {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} == custom
                launched.append(custom)
        assert [c["module"] for c in launched if "module" in c] == [m.id for m in course.modules]
        assert [c["task"] for c in launched if "task" in c] == [t.id for t in course.tasks if t.module is None]


def test_cartridges_are_reproducible_and_take_the_tool_url(tmp_path, monkeypatch):
    url = ("-O", "lti_url=https://lti.test")
    first = run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path / "a"), *url)
    second = run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path / "b"), *url)
    assert first.code == second.code == 0
    files = sorted((tmp_path / "a" / "cc").glob("*.imscc"))
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["cc11.imscc", "cc13.imscc"]
    for path in files:
        assert path.read_bytes() == (tmp_path / "b" / "cc" / path.name).read_bytes()
    monkeypatch.setenv("COURSE_LTI_URL", "https://tool.example.net/")
    assert run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path / "c")).code == 0
    cartridge = next((tmp_path / "c" / "cc").glob("*-cc11.imscc"))
    with zipfile.ZipFile(cartridge) as archive:
        links = [archive.read(n) for n in archive.namelist() if n != "imsmanifest.xml"]
    assert all(b"https://tool.example.net/lti/launch?" in link for link in links)


def test_tool_url_as_build_option(tmp_path):
    assert run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path), "-O", "lti_url=https://lti.test").code == 0
    with zipfile.ZipFile(next((tmp_path / "cc").glob("*-cc13.imscc"))) as archive:
        links = [archive.read(n) for n in archive.namelist() if n != "imsmanifest.xml"]
    assert links and all(b"<blti:launch_url>https://lti.test/lti/launch?" in link for link in links)


def test_cc_without_a_tool_url_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_LTI_URL", raising=False)
    result = run_course("build", str(MINI), "-t", "html", "-t", "cc", "-o", str(tmp_path))
    assert result.code == 2
    assert "no LTI tool URL" in result.output and "-O lti_url=" in result.output
    assert not (tmp_path / "cc").exists() and not (tmp_path / "html").exists()
    bad = run_course("build", str(MINI), "-t", "cc", "-o", str(tmp_path), "-O", "lti_url=lti.example.org")
    assert bad.code == 2 and "not an http(s) URL" in bad.output and not (tmp_path / "cc").exists()


def test_plain_build_skips_cc_with_a_notice_when_no_tool_url_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_LTI_URL", raising=False)
    result = run_course("build", str(MINI), "-o", str(tmp_path))
    assert result.code == 0, result.output
    assert "cc skipped: no LTI tool URL" in result.output
    assert not (tmp_path / "cc").exists() and (tmp_path / "html").is_dir()
