"""The Moodle course backup (target moodle-backup): structure checked against the rules Moodle's restore
relies on, learned from the reference backup a real Moodle 4.5.6 wrote (../shared/reference/moodle/)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import MINI, REPO, run_course, shared
from test_moodle_banks import SPECIAL_QUESTIONS

from course_builder.tarwriter import tar_gz_bytes

REFERENCE = ("reference", "moodle", "netzwerkkoordination-referenz-nousers.mbz")
NULL = "$@NULL@$"
ROOT_FILES = ["moodle_backup.xml", "files.xml", "questions.xml", "groups.xml", "roles.xml", "scales.xml", "outcomes.xml",
              "course/course.xml", "course/roles.xml", "course/filters.xml", "course/calendar.xml",
              "course/contentbank.xml"]
ACTIVITY_FILES = ["module.xml", "roles.xml", "filters.xml", "calendar.xml", "grades.xml", "inforef.xml"]


def unpack(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def build(course: Path, out: Path, *options: str) -> bytes:
    result = run_course("build", str(course), "-t", "moodle-backup", "-o", str(out), *options)
    assert result.code == 0, result.output
    [mbz] = list((out / "moodle-backup").glob("*.mbz"))
    return mbz.read_bytes()


class Backup:
    """An unpacked backup with its XML parsed on demand."""

    def __init__(self, data: bytes):
        self.data = data
        self.files = unpack(data)

    def xml(self, name: str):
        return etree.fromstring(self.files[name])

    @property
    def info(self):
        return self.xml("moodle_backup.xml").find("information")

    def activities(self) -> list[tuple[str, str, str]]:
        """(moduleid, sectionid, directory) of every activity moodle_backup.xml lists."""
        return [(a.findtext("moduleid"), a.findtext("sectionid"), a.findtext("directory"), a.findtext("modulename"))
                for a in self.info.find("contents/activities")]


@pytest.fixture(scope="module")
def special_course(tmp_path_factory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("special") / "mini"
    shutil.copytree(MINI, root)
    quiz = root / "assessments" / "01-grundlagen" / "quiz.md"
    quiz.write_text(quiz.read_text(encoding="utf-8") + SPECIAL_QUESTIONS, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def native(special_course: Path, tmp_path_factory) -> Backup:
    return Backup(build(special_course, tmp_path_factory.mktemp("native"), "--moodle-delivery", "native"))


@pytest.fixture(scope="module")
def scorm(special_course: Path, tmp_path_factory) -> Backup:
    return Backup(build(special_course, tmp_path_factory.mktemp("scorm")))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Backup:
    return Backup(build(REPO, tmp_path_factory.mktemp("bundled"), "--moodle-delivery", "native"))


@pytest.fixture(scope="module")
def reference() -> Backup:
    return Backup(shared(*REFERENCE).read_bytes())


def pooled_mini(root: Path) -> Path:
    """A copy of the mini course whose quiz draws from item pools (1 from ziel, 2 from anwenden)."""
    import shutil

    shutil.copytree(MINI, root)
    quiz_md = root / "assessments" / "01-grundlagen" / "quiz.md"
    quiz_md.write_text(quiz_md.read_text(encoding="utf-8").replace(
        "shuffle: true\n", "shuffle: true\ndraw: [1 from ziel, 2 from anwenden]\n", 1), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def pooled_course(tmp_path_factory) -> Path:
    """The mini course with item pools in its quiz."""
    return pooled_mini(tmp_path_factory.mktemp("pooled") / "mini")


@pytest.fixture(scope="module")
def pooled(pooled_course: Path, tmp_path_factory) -> Backup:
    """The pooled quiz delivered natively: random slots from pool categories."""
    return Backup(build(pooled_course, tmp_path_factory.mktemp("pooled-out"), "--moodle-delivery", "native"))


@pytest.fixture(scope="module")
def pooled5(pooled_course: Path, tmp_path_factory) -> Backup:
    """The same for Moodle 5.x (`-O moodle=5.0`): the questions in a mod_qbank activity."""
    return Backup(build(pooled_course, tmp_path_factory.mktemp("pooled5-out"), "--moodle-delivery", "native",
                        "-O", "moodle=5.0"))


BACKUPS = ["native", "scorm", "bundled", "pooled", "pooled5", "reference"]


@pytest.fixture(params=BACKUPS)
def any_backup(request) -> Backup:
    """Every rule holds for our backups and for the one Moodle itself wrote (which keeps the rules honest)."""
    return request.getfixturevalue(request.param)


def test_moodle_backup_header_is_what_restore_sniffs(any_backup: Backup):
    head = any_backup.files["moodle_backup.xml"][:200].decode("utf-8", "replace")
    assert '<?xml version="1.0" encoding="UTF-8"?>' in head and "<moodle_backup>" in head and "<information>" in head
    info = any_backup.info
    assert info.findtext("details/detail/type") == "course" and info.findtext("details/detail/format") == "moodle2"
    for required in ("mnet_remoteusers", "original_wwwroot", "original_site_identifier_hash"):
        assert info.find(required) is not None
    assert int(info.findtext("backup_version")) >= 2010072300
    roots = {s.findtext("name"): s.findtext("value") for s in info.find("settings") if s.findtext("level") == "root"}
    assert roots["activities"] == "1" and roots["users"] == "0"


def test_every_listed_file_exists(any_backup: Backup):
    files = any_backup.files
    for name in ROOT_FILES:
        assert name in files, name
    for _, _, directory, modname in any_backup.activities():
        for name in ACTIVITY_FILES + [f"{modname}.xml"]:
            assert f"{directory}/{name}" in files, f"{directory}/{name}"
    for section in any_backup.info.find("contents/sections"):
        assert f"{section.findtext('directory')}/section.xml" in files


def test_activities_sections_and_settings_agree(any_backup: Backup):
    info = any_backup.info
    section_ids = {s.findtext("sectionid") for s in info.find("contents/sections")}
    seen_contexts = set()
    for moduleid, sectionid, directory, modname in any_backup.activities():
        assert sectionid in section_ids, f"{directory} points at a missing section"
        assert directory == f"activities/{modname}_{moduleid}"
        module = any_backup.xml(f"{directory}/module.xml")
        assert module.get("id") == moduleid and module.findtext("sectionid") == sectionid
        assert module.findtext("modulename") == modname and module.get("version")
        activity = any_backup.xml(f"{directory}/{modname}.xml")
        assert activity.get("moduleid") == moduleid and activity.get("modulename") == modname
        assert activity.find(modname).get("id") == activity.get("id")
        assert activity.get("contextid") not in seen_contexts
        seen_contexts.add(activity.get("contextid"))
        section_dir = next(s.findtext("directory") for s in info.find("contents/sections")
                           if s.findtext("sectionid") == sectionid)
        sequence = any_backup.xml(f"{section_dir}/section.xml").findtext("sequence").split(",")
        assert moduleid in sequence
    listed = {f"{m}_{i}" for i, _, _, m in any_backup.activities()} | {
        f"section_{s}" for s in section_ids}
    for setting in info.find("settings"):
        target = setting.findtext("activity") or setting.findtext("section")
        if setting.findtext("level") != "root":
            assert target in listed, f"setting for unlisted {target}"
    course = any_backup.xml("course/course.xml")
    assert course.get("contextid") == info.findtext("original_course_contextid")
    assert course.get("contextid") not in seen_contexts


def test_files_are_referenced_and_stored_where_moodle_looks(any_backup: Backup):
    files_xml = any_backup.xml("files.xml")
    records = {f.get("id"): f for f in files_xml}
    by_activity_context = {}
    for moduleid, _, directory, modname in any_backup.activities():
        activity = any_backup.xml(f"{directory}/{modname}.xml")
        refs = [f.text for f in any_backup.xml(f"{directory}/inforef.xml").iterfind("fileref/file/id")]
        for ref in refs:
            assert ref in records, f"{directory} refers to file {ref} that files.xml lacks"
            assert records[ref].findtext("contextid") == activity.get("contextid"), "file lost on restore"
        by_activity_context[activity.get("contextid")] = set(refs)
    for fid, record in records.items():
        sha = record.findtext("contenthash")
        if record.findtext("filename") == ".":
            assert sha == hashlib.sha1(b"").hexdigest()
            continue
        blob = any_backup.files.get(f"files/{sha[:2]}/{sha}")
        assert blob is not None, f"blob of file {fid} missing"
        assert hashlib.sha1(blob).hexdigest() == sha and len(blob) == int(record.findtext("filesize"))
        context = record.findtext("contextid")
        if record.findtext("component").startswith("mod_"):
            assert fid in by_activity_context.get(context, set()), f"file {fid} is in no activity's inforef"


def question_bank(backup: Backup) -> tuple[str, str, str]:
    """(context id, context level, inforef file) of the backup's question bank: the course's before Moodle 5.0,
    a mod_qbank activity's from 5.0 on."""
    for _, _, directory, modname in backup.activities():
        if modname == "qbank":
            return backup.xml(f"{directory}/qbank.xml").get("contextid"), "70", f"{directory}/inforef.xml"
    return backup.xml("course/course.xml").get("contextid"), "50", "course/inforef.xml"


def test_questions_and_quiz_slots_agree(any_backup: Backup):
    questions = any_backup.xml("questions.xml")
    bank_context, bank_level, bank_inforef = question_bank(any_backup)
    category_ids = set()
    entries = set()
    for cat in questions.findall("question_category"):
        assert cat.findtext("contextid") == bank_context and cat.findtext("contextlevel") == bank_level
        assert cat.findtext("parent") == "0" or cat.findtext("parent") in category_ids
        category_ids.add(cat.get("id"))
        for entry in cat.iterfind("question_bank_entries/question_bank_entry"):
            assert entry.findtext("questioncategoryid") == cat.get("id")
            entries.add(entry.get("id"))
    bank_refs = {c.text for c in any_backup.xml(bank_inforef).iterfind("question_categoryref/question_category/id")}
    assert bank_refs == category_ids
    for _, _, directory, modname in any_backup.activities():
        if modname != "quiz":
            continue
        quiz = any_backup.xml(f"{directory}/quiz.xml")
        for ref in quiz.iterfind(".//question_instance/question_reference"):
            assert ref.findtext("questionbankentryid") in entries, "quiz slot without its question"
            assert ref.findtext("usingcontextid") == quiz.get("contextid")
        for ref in quiz.iterfind(".//question_instance/question_set_reference"):  # a random question
            filtered = json.loads(ref.findtext("filtercondition"))["filter"]["category"]["values"]
            assert [str(v) for v in filtered] in ([c] for c in category_ids), "random slot without its category"
            assert ref.findtext("usingcontextid") == quiz.get("contextid")
            assert ref.findtext("questionscontextid") == bank_context
        refs = {c.text for c in any_backup.xml(f"{directory}/inforef.xml").iterfind("question_categoryref/question_category/id")}
        assert refs <= category_ids


def test_grade_items_groups_and_completion_agree(any_backup: Backup):
    categories = {c.get("id") for c in any_backup.xml("gradebook.xml").iterfind("grade_categories/grade_category")}
    for moduleid, _, directory, _ in any_backup.activities():
        items = {g.get("id"): g for g in any_backup.xml(f"{directory}/grades.xml").iterfind("grade_items/grade_item")}
        refs = {g.text for g in any_backup.xml(f"{directory}/inforef.xml").iterfind("grade_itemref/grade_item/id")}
        assert refs == set(items)
        for item in items.values():
            assert item.findtext("categoryid") in categories
    groups = any_backup.xml("groups.xml")
    group_ids = {g.get("id") for g in groups.findall("group")}
    for link in groups.iterfind("groupings/grouping/grouping_groups/grouping_group"):
        assert link.findtext("groupid") in group_ids
    cmids = {(m, i) for i, _, _, m in any_backup.activities()}
    for criterion in any_backup.xml("completion.xml").findall("course_completion_criteria"):
        assert (criterion.findtext("module"), criterion.findtext("moduleinstance")) in cmids


STRUCTURES = ["course/course.xml", "sections/*/section.xml", "*/module.xml", "quiz_*/quiz.xml", "scorm_*/scorm.xml",
              "assign_*/assign.xml", "forum_*/forum.xml", "label_*/label.xml", "page_*/page.xml", "files.xml",
              "groups.xml", "completion.xml", "questions.xml", "gradebook.xml", "*/grades.xml"]


def _paths(root, prefix: str = "") -> set[str]:
    out = set()
    for child in root:
        path = f"{prefix}/{child.tag}"
        out.add(path)
        out |= _paths(child, path)
    return out


def _structure(backup: Backup, pattern: str) -> tuple[set[str], set[str]]:
    """(element paths, attribute names) over every file matching pattern (a '*' stands for one path part)."""
    import fnmatch

    paths, attrs = set(), set()
    for name, data in backup.files.items():
        rel = name.split("/", 1)[1] if name.startswith("activities/") else name
        if fnmatch.fnmatch(rel, pattern) and rel.count("/") == pattern.count("/"):
            root = etree.fromstring(data)
            paths |= _paths(root, root.tag)
            attrs |= set(root.attrib)
    return paths, attrs


@pytest.mark.parametrize("pattern", STRUCTURES)
def test_elements_are_the_ones_moodle_writes(pattern: str, native: Backup, scorm: Backup, reference: Backup):
    ref_paths, ref_attrs = _structure(reference, pattern)
    assert ref_paths, f"the reference has no {pattern}"
    ours = [_structure(native, pattern), _structure(scorm, pattern)]
    our_paths = set().union(*(p for p, _ in ours))
    if pattern == "questions.xml":  # the ordering type is not in the reference course; its elements come from
        our_paths = {p for p in our_paths if "qtype_ordering" not in p}  # backup_qtype_ordering_plugin instead
    if pattern == "*/grades.xml":  # the reference's label/forum have no grade items at all: compare the item shape
        ref_paths = {p for p in ref_paths}
    assert our_paths <= ref_paths, sorted(our_paths - ref_paths)
    missing = ref_paths - our_paths
    # What we leave out on purpose: no users, no LTI, no manual grade items, no course files.
    assert not missing, sorted(missing)
    assert set().union(*(a for _, a in ours)) == ref_attrs


def test_native_delivery_makes_pages_and_quizzes_with_their_images(native: Backup):
    mods = [m for _, _, _, m in native.activities()]
    assert "scorm" not in mods and mods.count("quiz") == 1 and "page" in mods
    page_dirs = [d for _, _, d, m in native.activities() if m == "page"]
    with_image = [d for d in page_dirs if b"@@PLUGINFILE@@/karte.svg" in native.files[f"{d}/page.xml"]]
    assert with_image
    refs = [f.text for f in native.xml(f"{with_image[0]}/inforef.xml").iterfind("fileref/file/id")]
    names = {r.findtext("filename") for r in native.xml("files.xml") if r.get("id") in refs}
    assert names == {"karte.svg", "."}
    question_file = [r for r in native.xml("files.xml") if r.findtext("component") == "question"]
    assert {r.findtext("filename") for r in question_file} == {"karte.svg", "."}


def test_scorm_delivery_embeds_the_scorm12_package(scorm: Backup, special_course: Path, tmp_path: Path):
    [(moduleid, _, directory, _)] = [a for a in scorm.activities() if a[3] == "scorm"]
    activity = scorm.xml(f"{directory}/scorm.xml").find("scorm")
    result = run_course("build", str(special_course), "-t", "scorm12", "-o", str(tmp_path))
    assert result.code == 0, result.output
    [package] = [p for p in (tmp_path / "scorm12").glob("*-scorm12.zip") if p.name != "mini-scorm12.zip"]
    assert activity.findtext("sha1hash") == hashlib.sha1(package.read_bytes()).hexdigest()
    assert activity.findtext("reference") == package.name
    assert scorm.files[f"files/{activity.findtext('sha1hash')[:2]}/{activity.findtext('sha1hash')}"] == package.read_bytes()
    launch = activity.findtext("launch")
    scoes = {s.get("id"): s for s in activity.iterfind("scoes/sco")}
    assert scoes[launch].findtext("scormtype") == "sco" and scoes[launch].findtext("launch").endswith("index.html")
    assert activity.findtext("completionstatusrequired") == "2"  # passed
    import zipfile

    with zipfile.ZipFile(package) as zf:
        inside = {n for n in zf.namelist() if not n.endswith("/")}
    records = [r for r in scorm.xml("files.xml") if r.findtext("component") == "mod_scorm"
               and r.findtext("filearea") == "content" and r.findtext("filename") != "."]
    assert {(r.findtext("filepath") + r.findtext("filename")).lstrip("/") for r in records} == inside
    criteria = {c.findtext("module") for c in scorm.xml("completion.xml").findall("course_completion_criteria")}
    assert criteria == {"scorm", "assign"}


def test_weekly_course_with_presence_webinars_groups_and_certificate_rule(bundled: Backup, repo: Path):
    from course_builder import check

    course, _ = check(repo)
    course_xml = bundled.xml("course/course.xml")
    assert course_xml.findtext("format") == "weeks" and course_xml.findtext("enablecompletion") == "1"
    assert course_xml.findtext("lang") == "de"
    sections = [bundled.xml(f"{s.findtext('directory')}/section.xml") for s in bundled.info.find("contents/sections")]
    names = [s.findtext("name") for s in sections]
    assert names[0].startswith("Auftaktveranstaltung") and names[-1] == "Alumni-Netzwerk"
    # Moodle's weekly format dates section N as week N from the course start: week sections must be 1…weeks.
    week_numbers = [int(s.findtext("number")) for s in sections if s.findtext("name").startswith("Woche ")]
    assert week_numbers == list(range(1, course.spec.cohort.weeks + 1))
    start = datetime.datetime.combine(course.spec.cohort.start, datetime.time(), tzinfo=ZoneInfo("Europe/Berlin"))
    assert course_xml.findtext("startdate") == str(int(start.timestamp()))
    assert len(names) == 1 + course.spec.cohort.weeks + 1 + 1
    labels = [d for _, _, d, m in bundled.activities() if m == "label"]
    assert len(labels) == len(course.spec.schedule.webinars)
    events = bundled.xml("course/calendar.xml").findall("event")
    webinar_events = [e for e in events if e.findtext("name").startswith("Webinar: ")]
    assert len(webinar_events) == len(course.spec.schedule.webinars)
    # Each event lasts as long as its webinar's time range (weeks 9 and 10 run longer, with presentation coaching).
    assert sorted(int(e.findtext("timeduration")) for e in webinar_events) == sorted(
        w.minutes * 60 for w in course.spec.schedule.webinars)
    groups = bundled.xml("groups.xml")
    assert len(groups.findall("group")) == 5  # 20 expected participants in groups of four
    grouping = groups.find("groupings/grouping")
    assert grouping.findtext("name") == "Projektgruppen"
    assigns = [bundled.xml(f"{d}/assign.xml").find("assign") for _, _, d, m in bundled.activities() if m == "assign"]
    [assign] = [a for a in assigns if a.findtext("teamsubmission") == "1"]  # the project; graded tasks are individual
    assert len(assigns) == 1 + sum(t.kind == "assignment" for t in course.tasks)
    assert assign.findtext("completionsubmit") == "1"
    assert assign.findtext("teamsubmissiongroupingid") == grouping.get("id")
    criteria = bundled.xml("completion.xml").findall("course_completion_criteria")
    assert len(criteria) == len(course.certificate_quizzes()) + len(course.certificate_tasks())
    quiz_dirs = [d for _, _, d, m in bundled.activities() if m == "quiz"]
    for d in quiz_dirs:
        module = bundled.xml(f"{d}/module.xml")
        item = bundled.xml(f"{d}/grades.xml").find("grade_items/grade_item")
        if any(c.findtext("moduleinstance") == module.get("id") for c in criteria):
            assert module.findtext("completionpassgrade") == "1" and float(item.findtext("gradepass")) > 0
    grade_categories = bundled.xml("gradebook.xml").findall("grade_categories/grade_category")
    assert len(grade_categories) == 3 + any(t.kind == "assignment" for t in course.tasks)


def test_participants_option_sets_the_number_of_groups(tmp_path: Path):
    data = build(MINI, tmp_path, "-O", "participants=9")
    groups = etree.fromstring(unpack(data)["groups.xml"]).findall("group")
    assert len(groups) == 3  # nine people in groups of four: three groups


def test_bad_options_are_usage_errors(tmp_path: Path):
    assert run_course("build", str(MINI), "-t", "moodle-backup", "-o", str(tmp_path), "-O", "nonsense").code == 2
    assert run_course("build", str(MINI), "-t", "moodle-backup", "-o", str(tmp_path),
                      "--moodle-delivery", "paper").code == 2
    for value in ("participants=many", "participants=-4", "moodle-delivery=paper"):
        result = run_course("build", str(MINI), "-t", "moodle-backup", "-o", str(tmp_path), "-O", value)
        assert result.code == 2 and value.split("=")[0] in result.stderr
        assert not (tmp_path / "moodle-backup").exists()


def test_archive_is_byte_identical_and_moodle_shaped(special_course: Path, tmp_path: Path):
    first = build(special_course, tmp_path / "a")
    second = build(special_course, tmp_path / "b")
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        members = tar.getmembers()
    assert members[0].name == ".ARCHIVE_INDEX"
    assert all(m.uid == 0 and m.gid == 0 and not m.uname and m.mode in (0o644, 0o755) for m in members)
    assert len({m.mtime for m in members}) == 1
    tops = {m.name.split("/")[0] for m in members}
    assert "moodle_backup.xml" in tops and not any(t.endswith(".mbz") for t in tops)
    index = gzip.decompress(first)  # an uncompressed tar holds the index as written
    assert b"Moodle archive file index. Count: " in index


def test_tar_writer_orders_and_fixes_everything():
    a = tar_gz_bytes([("b/x.txt", b"1"), ("a.txt", b"2"), (".INDEX", b"0")], first=(".INDEX",))
    b = tar_gz_bytes([(".INDEX", b"0"), ("a.txt", b"2"), ("b/x.txt", b"1")], first=(".INDEX",))
    assert a == b
    with tarfile.open(fileobj=io.BytesIO(a), mode="r:gz") as tar:
        assert [m.name for m in tar.getmembers()] == [".INDEX", "a.txt", "b", "b/x.txt"]
    with pytest.raises(ValueError):
        tar_gz_bytes([("a", b""), ("a", b"")])


MANIFEST_12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M" version="1.0" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <organizations default="O"><organization identifier="O"><title>Org</title>
    <item identifier="I1" identifierref="R1"><title>Eins</title>{mastery}
      <item identifier="I2" identifierref="R2" isvisible="false"><title>Zwei</title></item></item>
  </organization></organizations>
  <resources><resource identifier="R1" type="webcontent" adlcp:scormtype="sco" href="a/index.html"/>
    <resource identifier="R2" type="webcontent" adlcp:scormtype="asset" href="b.html"/></resources>
</manifest>"""


@pytest.mark.parametrize("mastery, status", [("<adlcp:masteryscore>80</adlcp:masteryscore>", "2"), ("", "4")])
def test_scos_are_read_as_moodle_parses_them(mastery: str, status: str):
    import zipfile

    from course_builder.targets.moodle.backup.scorm import scorm_status
    from course_builder.targets.moodle.scorm_seam import read_manifest

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("imsmanifest.xml", MANIFEST_12.format(mastery=mastery))
        zf.writestr("a/index.html", "<p>x</p>")
    manifest = read_manifest(raw.getvalue())
    assert manifest.identifier == "M"
    assert [(s.identifier, s.parent, s.organization, s.launch, s.scormtype) for s in manifest.scoes] == [
        ("O", "/", "", "", ""), ("I1", "O", "O", "a/index.html", "sco"), ("I2", "I1", "O", "b.html", "asset")]
    assert dict(manifest.scoes[2].data)["isvisible"] == "false"
    assert ("masteryscore" in dict(manifest.scoes[1].data)) == bool(mastery)
    assert str(scorm_status(manifest)) == status
    assert [name for name, _ in manifest.files] == ["a/index.html", "imsmanifest.xml"]


@pytest.mark.parametrize("policy, behaviour, shown", [
    ("immediate", "immediatefeedback", 0x11110), ("after-attempt", "deferredfeedback", 0x01110),
    ("after-last-attempt", "deferredfeedback", 0x00010)])
def test_the_feedback_policy_sets_moodles_review_options(policy, behaviour, shown, tmp_path):
    import shutil

    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    quiz_md = root / "assessments" / "01-grundlagen" / "quiz.md"
    quiz_md.write_text(quiz_md.read_text(encoding="utf-8").replace("shuffle: true\n", f"shuffle: true\nfeedback: {policy}\n", 1),
                       encoding="utf-8")
    backup = Backup(build(root, tmp_path / "out", "--moodle-delivery", "native"))
    [quiz_xml] = [name for name in backup.files if name.endswith("/quiz.xml")]
    quiz = backup.xml(quiz_xml).find("quiz")
    review = {child.tag: int(child.text) for child in quiz if child.tag.startswith("review")}
    assert quiz.findtext("preferredbehaviour") == behaviour
    for name in ("reviewcorrectness", "reviewmarks", "reviewspecificfeedback", "reviewgeneralfeedback"):
        assert review[name] == shown, name
    # The right answer only once the quiz is closed; the attempt itself and the maximum marks always.
    assert review["reviewrightanswer"] == 0x10
    assert review["reviewattempt"] == review["reviewmaxmarks"] == 0x11110
    assert review["reviewoverallfeedback"] == 0x01110


def test_item_pools_become_random_questions_from_a_category_per_pool(pooled: Backup):
    backup = pooled
    categories = {c.get("id"): c for c in backup.xml("questions.xml").iter("question_category")}
    by_idnumber = {c.findtext("idnumber"): c for c in categories.values()}
    module_cat = next(c for key, c in by_idnumber.items() if key.endswith("-grundlagen"))
    pools = {pool: by_idnumber[f"{module_cat.findtext('idnumber')}-{pool}"] for pool in ("ziel", "anwenden")}
    for pool, cat in pools.items():
        assert cat.findtext("parent") == module_cat.get("id") and cat.findtext("name") == pool
    names = {pool: {e.findtext("idnumber") for e in cat.iter("question_bank_entry")} for pool, cat in pools.items()}
    assert len(names["ziel"]) == 3 and len(names["anwenden"]) == 5  # the whole pool, each question once
    assert not list(module_cat.iter("question_bank_entry"))  # every question sits in its pool
    [quiz_xml] = [name for name in backup.files if name.endswith("/quiz.xml")]
    instances = backup.xml(quiz_xml).find("quiz/question_instances")
    refs = [i.find("question_set_reference") for i in instances]
    assert len(refs) == 3 and all(r is not None for r in refs) and not list(instances.iter("question_reference"))
    drawn = [json.loads(r.findtext("filtercondition"))["filter"]["category"]["values"][0] for r in refs]
    assert sorted(drawn) == sorted([int(pools["ziel"].get("id"))] + [int(pools["anwenden"].get("id"))] * 2)
    assert {r.findtext("component") for r in refs} == {"mod_quiz"} and {r.findtext("questionarea") for r in refs} == {"slot"}
    # The quiz's inforef names the pool categories, so the restore brings them along.
    [inforef] = [name for name in backup.files if name == quiz_xml.replace("quiz.xml", "inforef.xml")]
    listed = {e.findtext("id") for e in backup.xml(inforef).iter("question_category")}
    assert {pools["ziel"].get("id"), pools["anwenden"].get("id")} <= listed


def test_moodle5_variant_puts_the_bank_in_a_qbank_activity_and_changes_nothing_else(pooled: Backup, pooled5: Backup):
    assert pooled.info.findtext("backup_release") == "4.5" and pooled5.info.findtext("backup_release") == "5.0"
    assert "qbank" not in [m for *_, m in pooled.activities()]
    first, *rest = pooled5.activities()
    assert first[3] == "qbank", "the bank is restored before the quizzes whose random slots name its context"
    assert [m for *_, m in rest] == [m for *_, m in pooled.activities()]
    general = pooled5.info.find("contents/sections")[0]
    assert first[1] == general.findtext("sectionid")
    bank = pooled5.xml(f"{first[2]}/qbank.xml").find("qbank")
    assert bank.findtext("type") == "standard" and bank.findtext("name")
    assert not list(pooled5.xml("course/inforef.xml").iterfind("question_categoryref"))
    assert len(pooled5.xml("questions.xml").findall(".//question_bank_entry")) == \
        len(pooled.xml("questions.xml").findall(".//question_bank_entry"))
    quiz = next(directory for _, _, directory, modname in rest if modname == "quiz")
    assert list(pooled5.xml(f"{quiz}/quiz.xml").iterfind(".//question_set_reference")), "the quiz draws from pools"


def test_an_unknown_moodle_version_is_refused_with_the_known_ones(tmp_path):
    result = run_course("build", str(MINI), "-t", "moodle-backup", "-o", str(tmp_path), "-O", "moodle=3.9")
    assert result.code != 0 and "moodle must be one of 4.5, 5.0" in result.output
    assert not (tmp_path / "moodle-backup").exists()
