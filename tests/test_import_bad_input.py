"""`course import questions` on bad input: a clear error with file and line, exit 1, nothing written."""

from __future__ import annotations

import json

from click.testing import CliRunner

from course_builder.cli import cli

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<quiz><question type="essay"><name><text>&b;</text></name></question></quiz>
"""
GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Fragen</text></category></question>
  <question type="truefalse"><name><text>Wahr?</text></name>
    <questiontext format="html"><text>&lt;p&gt;Ist das &lt;em&gt;so&lt;/em&gt;?&lt;/p&gt;</text></questiontext>
    <answer fraction="100" format="moodle_auto_format"><text>true</text><feedback><text>Ja.</text></feedback></answer>
    <answer fraction="0" format="moodle_auto_format"><text>false</text><feedback><text>Nein.</text></feedback></answer>
  </question>
  <question type="ddmarker"><name><text>Karte</text></name></question>
</quiz>
"""


def _run(tmp_path, name: str, content: bytes, *extra: str):
    src = tmp_path / name
    src.write_bytes(content)
    into = tmp_path / "out"
    result = CliRunner().invoke(cli, ["import", "questions", str(src), "--into", str(into), "--format", "json", *extra])
    return result, into, src


def test_malformed_xml_names_file_and_line(tmp_path):
    result, into, src = _run(tmp_path, "q.xml", b'<?xml version="1.0"?>\n<quiz>\n<question type="essay">\n</quiz>\n')
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["file"] == str(src) and diag["line"] == 4 and diag["code"] == "IMP001"
    assert not into.exists()


def test_entity_bomb_is_refused(tmp_path):
    result, into, _ = _run(tmp_path, "bomb.xml", BOMB)
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["line"] == 2 and "entities" in diag["message"]
    assert not into.exists()


def test_gift_syntax_error(tmp_path):
    result, into, _ = _run(tmp_path, "q.gift", b"::A:: Gut {=ja ~nein}\n\n::B:: kaputt {=x\n")
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["line"] == 3 and "GIFT syntax error" in diag["message"]
    assert not into.exists()


def test_unsupported_type_is_kept_and_reported_and_existing_files_need_force(tmp_path):
    result, into, src = _run(tmp_path, "q.xml", GOOD)
    assert result.exit_code == 0, result.output
    diags = json.loads(result.stdout)["diagnostics"]
    unsupported = [x for x in diags if x["code"] == "IMP002"]
    assert unsupported and unsupported[0]["line"] == 9 and "type 'ddmarker' cannot be imported" in unsupported[0]["message"]
    assert "unimported.xml" in unsupported[0]["message"]
    assert b'type="ddmarker"' in (into / "assessments" / "unimported.xml").read_bytes()
    quiz = (into / "assessments" / "fragen" / "quiz.md").read_text(encoding="utf-8")
    assert "## truefalse: Wahr?" in quiz and "Ist das *so*?" in quiz and "- (x) wahr\n  Ja." in quiz
    before = quiz
    again = CliRunner().invoke(cli, ["import", "questions", str(src), "--into", str(into), "--format", "json"])
    assert again.exit_code == 1 and "--force" in again.stdout
    assert (into / "assessments" / "fragen" / "quiz.md").read_text(encoding="utf-8") == before
    forced = CliRunner().invoke(cli, ["import", "questions", str(src), "--into", str(into), "--force"])
    assert forced.exit_code == 0


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_embedded_images_become_media_files_with_their_alt_text(tmp_path):
    import base64

    b64 = base64.b64encode(PNG).decode()
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="essay"><name><text>Karte</text></name>
    <questiontext format="html"><text><![CDATA[<p>Beschreiben Sie die Karte.</p><p><img src="@@PLUGINFILE@@/karte%201.png" alt="Netzwerkkarte mit drei Kreisen"></p>]]></text>
<file name="karte 1.png" path="/" encoding="base64">{b64}</file>
    </questiontext>
    <generalfeedback format="html"><text><![CDATA[<p><img src="@@PLUGINFILE@@/ohne.png"></p>]]></text>
<file name="ohne.png" path="/" encoding="base64">{b64}</file>
    </generalfeedback>
  </question>
</quiz>
""".encode()
    result, into, _ = _run(tmp_path, "bilder.xml", xml)
    assert result.exit_code == 0, result.output
    folder = into / "assessments" / "importierte-fragen"
    assert (folder / "media" / "karte-1.png").read_bytes() == PNG
    quiz = (folder / "quiz.md").read_text(encoding="utf-8")
    assert "![Netzwerkkarte mit drei Kreisen](media/karte-1.png)" in quiz
    warnings = [x for x in json.loads(result.stdout)["diagnostics"] if x["code"] == "IMP004"]
    assert len(warnings) == 1 and "no alt text" in warnings[0]["message"] and warnings[0]["line"] == 3


def test_malformed_xml_inside_a_backup_names_the_member_and_line(tmp_path):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {"moodle_backup.xml": b'<?xml version="1.0"?>\n<moodle_backup>\n<information>\n</moodle_backup>\n'}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    mbz = tmp_path / "k.mbz"
    mbz.write_bytes(buf.getvalue())
    result = CliRunner().invoke(cli, ["import", "moodle-backup", str(mbz), "--into", str(tmp_path / "kurs"), "--format", "json"])
    assert result.exit_code == 1
    diag = json.loads(result.stdout)["diagnostics"][0]
    assert diag["file"] == f"{mbz}:moodle_backup.xml" and diag["line"] == 4 and diag["code"] == "IMP001"
    assert not (tmp_path / "kurs").exists()
