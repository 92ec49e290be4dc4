"""SCORM packages as files: layout, manifests valid against the ADL schemas and what Moodle's parser needs,
runtime size, and byte-identical rebuilds."""

from __future__ import annotations

import html as html_module
import json
import re
from pathlib import PurePosixPath

import pytest
from lxml import etree

from course_builder import player
from course_builder.loader import load

from conftest import MINI, REPO, run_course
from scorm_support import read_zip, validate

VERSIONS = ["scorm12", "scorm2004"]
CP = {"scorm12": "http://www.imsproject.org/xsd/imscp_rootv1p1p2", "scorm2004": "http://www.imsglobal.org/xsd/imscp_v1p1"}
ADLCP = {"scorm12": "http://www.adlnet.org/xsd/adlcp_rootv1p2", "scorm2004": "http://www.adlnet.org/xsd/adlcp_v1p3"}
IMSSS = "http://www.imsglobal.org/xsd/imsss"
RUNTIME_LIMIT = 30 * 1024


@pytest.fixture(scope="module", params=["bundled", "mini"])
def built(request, tmp_path_factory):
    source = REPO if request.param == "bundled" else MINI
    out = tmp_path_factory.mktemp(f"scorm-{request.param}")
    result = run_course("build", "-t", "scorm", "-o", str(out), str(source))
    assert result.code == 0, result.output
    return load(source).course, out


def _packages(out, version):
    return sorted((out / version).glob("*.zip"))


def test_layout_one_package_per_module_and_one_for_the_course(built):
    course, out = built
    for version in VERSIONS:
        names = {p.name for p in _packages(out, version)}
        expected = {f"{course.id}-{m.id}-{version}.zip" for m in course.modules} | {f"{course.id}-{version}.zip"}
        assert names == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_against_the_adl_schemas(built, version):
    course, out = built
    for package in _packages(out, version):
        errors = validate(read_zip(package)["imsmanifest.xml"], version)
        assert errors == [], f"{package.name}: {errors}"


def test_schema_validation_catches_a_broken_manifest(built):
    _, out = built
    manifest = read_zip(_packages(out, "scorm2004")[0])["imsmanifest.xml"]
    assert validate(manifest.replace(b'adlcp:scormType="sco"', b'adlcp:scormType="lesson"'), "scorm2004")
    manifest = read_zip(_packages(out, "scorm12")[0])["imsmanifest.xml"]
    assert validate(manifest.replace(b"<resources>", b"<resources><bogus/>"), "scorm12")


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_have_what_moodles_parser_reads(built, version):
    course, out = built
    for package in _packages(out, version):
        files = read_zip(package)
        text = files["imsmanifest.xml"].decode("utf-8")
        doc = etree.fromstring(files["imsmanifest.xml"])
        ns = {"cp": CP[version], "adlcp": ADLCP[version], "imsss": IMSSS}
        assert doc.findtext("cp:metadata/cp:schemaversion", namespaces=ns) == ("1.2" if version == "scorm12" else "2004 4th Edition")
        assert doc.findtext("cp:metadata/cp:schema", namespaces=ns) == "ADL SCORM"
        # Moodle matches prefixed names literally.
        if version == "scorm12":
            assert 'adlcp:scormtype="sco"' in text
        else:
            assert 'adlcp:scormType="sco"' in text
            for prefix in ("adlcp", "imsss", "adlnav"):
                assert f'xmlns:{prefix}="' in text
        resources = {r.get("identifier"): r for r in doc.iterfind("cp:resources/cp:resource", ns)}
        items = list(doc.iterfind(".//cp:item", ns))
        module_ids = [m.id for m in course.modules]
        is_course_package = package.stem == f"{course.id}-{version}"
        # The organisation mirrors the course: one item per module, in course order.
        expected_ids = module_ids if is_course_package else [package.stem[len(course.id) + 1:-len(version) - 1]]
        assert [i.findtext("cp:title", namespaces=ns) for i in items] == [course.module(m).title for m in expected_ids]
        for item, module_id in zip(items, expected_ids):
            resource = resources[item.get("identifierref")]
            assert resource.get(f"{{{ADLCP[version]}}}{'scormtype' if version == 'scorm12' else 'scormType'}") == "sco"
            assert resource.get("href") == f"{module_id}/index.html"
            module = course.module(module_id)
            quiz = course.quiz_for(module_id)
            mark = player.pass_mark(course, module)
            if version == "scorm12":
                mastery = item.findtext("adlcp:masteryscore", namespaces=ns)
                assert (float(mastery) if mastery else None) == (mark if quiz and quiz.auto_points else None)
            else:
                primary = item.find("imsss:sequencing/imsss:objectives/imsss:primaryObjective", ns)
                if quiz and quiz.auto_points:
                    assert primary.get("satisfiedByMeasure") == "true"
                    assert float(primary.findtext("imsss:minNormalizedMeasure", namespaces=ns)) == pytest.approx(mark / 100)
                delivery = item.find("imsss:sequencing/imsss:deliveryControls", ns)
                assert delivery.get("completionSetByContent") == "true"
                assert delivery.get("objectiveSetByContent") == "true"
        # Every identifierref resolves, every listed file exists, every file is listed.
        for ref in doc.iterfind(".//*[@identifierref]"):
            assert ref.get("identifierref") in resources
        listed = {f.get("href") for f in doc.iterfind(".//cp:file", ns)}
        assert listed == set(files) - {"imsmanifest.xml"}
        assert all(r.get("href") in listed for r in resources.values() if r.get("href"))


@pytest.mark.parametrize("version", VERSIONS)
def test_runtime_is_small_and_dependency_free(built, version):
    course, out = built
    for package in _packages(out, version):
        files = read_zip(package)
        runtime = files["assets/learner.js"] + files["assets/learner.css"]
        print(f"{package.name}: runtime {len(runtime)} bytes (js {len(files['assets/learner.js'])}, "
              f"css {len(files['assets/learner.css'])})")
        assert len(runtime) <= RUNTIME_LIMIT
        for name, content in files.items():
            if name.endswith(".html"):
                html = content.decode("utf-8")
                scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
                styles = re.findall(r'<link[^>]*href="([^"]+)"', html)
                assert scripts == ["../assets/learner.js"] and styles == ["../assets/learner.css"]
                assert "http://" not in " ".join(scripts + styles) and "https://" not in " ".join(scripts + styles)
                assert f'"lms":"{version}"' in html


def test_pages_link_only_to_files_in_the_package(built):
    _, out = built
    for package in _packages(out, "scorm12"):
        files = read_zip(package)
        for name, content in files.items():
            if not name.endswith(".html"):
                continue
            for url in re.findall(r'(?:src|href)="([^"#:]+)(?:#[^"]*)?"', content.decode("utf-8")):
                target = str(PurePosixPath(name).parent / url)
                target = str(PurePosixPath(*[p for p in PurePosixPath(target).parts]))
                while "/../" in target:
                    target = re.sub(r"[^/]+/\.\./", "", target, count=1)
                assert target in files, f"{package.name}: {name} links to missing {url}"


def test_two_builds_are_byte_identical(tmp_path, mini):
    first = run_course("build", "-t", "scorm", "-t", "html", "-o", str(tmp_path / "a"), str(mini))
    # Touch every source file: modification times must not leak into the packages.
    for path in mini.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes())
    second = run_course("build", "-t", "scorm", "-t", "html", "-o", str(tmp_path / "b"), str(mini))
    assert first.code == 0 and second.code == 0, first.output + second.output
    a_files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    b_files = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert a_files == b_files and any(str(p).endswith("-scorm12.zip") for p in a_files)
    for rel in a_files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_scorm_group_builds_both_versions(tmp_path, mini):
    result = run_course("build", "-t", "scorm", "-o", str(tmp_path / "out"), str(mini))
    assert result.code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == VERSIONS


def _plain(fragment: str) -> str:
    return html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()


@pytest.mark.parametrize("version", VERSIONS)
def test_no_file_of_a_package_has_a_key_in_clear_text(built, version):
    """Keys travel sealed (docs/runtime.md, "Answer keys"): searching the files finds no accepted answer,
    no weight or right/wrong flag, no solution and no feedback text."""
    course, out = built
    for package in _packages(out, version):
        files = {name: content.decode("utf-8", "replace") for name, content in read_zip(package).items()
                 if name.endswith((".html", ".js", ".json", ".xml"))}
        # Lessons may say what a feedback says; the quiz section, the page data and the runtime must not.
        quiz_parts = [text.split('<section class="page page-quiz"', 1)[1].split("</section>", 1)[0]
                      + text.split('id="player-data">', 1)[1].split("</script>", 1)[0]
                      for text in files.values() if '<section class="page page-quiz"' in text]
        quiz_parts += [text for name, text in files.items() if not name.endswith(".html")]
        everything = " ".join(html_module.unescape("\n".join(quiz_parts)).split())
        for quiz in course.quizzes:
            page = next((text for name, text in files.items() if f'id="q-{quiz.questions[0].id}"' in text), None)
            if page is None:
                continue  # this package has another module
            data = json.loads(page.split('id="player-data">', 1)[1].split("</script>", 1)[0])
            assert data["quiz"]["scoring"] == "local" and data["quiz"]["salt"]
            for field in ("correct", "weight", "truth", "right", "order", "fb", "fbq", "text", "value"):
                assert all(field not in q for q in data["quiz"]["questions"]), field
            for q in quiz.questions:
                texts = [a.feedback for a in q.answers] + [q.feedback, q.correct_feedback, q.partial_feedback,
                                                           q.incorrect_feedback]
                for fb in texts:
                    words = " ".join(_plain(fb.html))
                    if words:
                        assert words[:60] not in everything, (package.name, q.id, words)
                # A short answer as a word (a seal's base64 may contain "eV" by chance).
                unsealed = [{k: v for k, v in qd.items() if k != "seal"} for qd in data["quiz"]["questions"]]
                own = page.split(f'id="q-{q.id}"', 1)[1].split("</fieldset>", 1)[0] + json.dumps(unsealed)
                for a in q.answers if q.type == "short" else []:
                    accepted = rf"\b{re.escape(a.text.markdown.strip())}\b"
                    assert not re.search(accepted, html_module.unescape(own)), (package.name, q.id)
