"""tarwriter.py: the .tar.gz of Moodle backups, compressed in pieces that a small edit leaves alone."""

from __future__ import annotations

import io
import random
import tarfile
import zlib
from pathlib import Path

from course_builder import tarwriter
from course_builder.cache import Cache
from course_builder.tarwriter import CHUNK, _chunks, sorted_with_folders, tar_gz_bytes


def _files_xml(records: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    return b"".join(b'  <file id="%d">\n    <contenthash>%040x</contenthash>\n    <filesize>%d</filesize>\n  </file>\n'
                    % (i, rnd.getrandbits(160), rnd.randrange(10**6)) for i in range(records))


def _read(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_a_large_entry_is_compressed_in_pieces_and_reads_back_whole():
    big = _files_xml(20000)
    assert len(big) > 8 * CHUNK
    entries = [("files.xml", big), ("a/b/module.xml", b"<module/>"), ("a/package.zip", random.randbytes(300_000))]
    data = tar_gz_bytes(entries, first=("files.xml",))
    assert _read(data) == dict(entries)
    assert data == tar_gz_bytes(list(reversed(entries)), first=("files.xml",))  # reproducible
    pieces = _chunks(big)
    assert b"".join(pieces) == big and len(pieces) > 8
    assert all(p.endswith(b"\n") for p in pieces[:-1])  # cut at line ends


def test_an_edit_in_a_large_entry_compresses_only_the_pieces_around_it(tmp_path: Path, monkeypatch):
    """What one lesson changes in files.xml: its package's content hash, its size one digit longer."""
    big = _files_xml(20000)
    cache = Cache(tmp_path / "cache")
    tar_gz_bytes([("files.xml", big)], cache=cache)
    pieces = len(_chunks(big))
    at = big.index(b"<contenthash>", len(big) // 2)
    edited = big[:at] + b"<contenthash>" + b"f" * 40 + b"</contenthash>\n    <filesize>1" + \
        big[big.index(b"<filesize>", at) + len(b"<filesize>"):]
    cache.misses = 0
    compressed: list[int] = []
    original = tarwriter._deflate
    monkeypatch.setattr(tarwriter, "_deflate", lambda raw: compressed.append(len(raw)) or original(raw))
    data = tar_gz_bytes([("files.xml", edited)], cache=cache)
    assert _read(data) == {"files.xml": edited}
    assert sum(compressed) < len(big) / 5  # not the whole entry again
    # The piece with the tar header (its size field), the one with the edit, and where a line end
    # moved across a cut (a shift of one byte: about one cut in thirty), the two beside that cut.
    assert cache.misses <= 6 and pieces > 30


def test_a_long_shift_is_correct_though_not_cheap(tmp_path: Path):
    """Cuts sit at fixed distances: text inserted early moves the lines under most later cuts, so most
    pieces are compressed again (as a whole entry was before); the archive is right either way."""
    big = _files_xml(20000)
    cache = Cache(tmp_path / "cache")
    tar_gz_bytes([("files.xml", big)], cache=cache)
    edited = b"<!-- " + b"x" * 1000 + b" -->\n" + big
    assert _read(tar_gz_bytes([("files.xml", edited)], cache=cache)) == {"files.xml": edited}


def test_folders_are_listed_once_with_their_parents():
    assert sorted_with_folders(["a/b/c.txt", "x.txt", "a/d/e/f", "a/b/z"]) == \
        ["a/", "a/b/", "a/b/c.txt", "a/b/z", "a/d/", "a/d/e/", "a/d/e/f", "x.txt"]


def test_crc32_combine_gives_the_checksum_of_the_joined_bytes():
    rnd = random.Random(7)
    for _ in range(200):
        a, b = rnd.randbytes(rnd.randrange(0, 5000)), rnd.randbytes(rnd.randrange(0, 200_000))
        assert tarwriter.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_long_running_process_compresses_only_the_runs_whose_entries_changed(tmp_path: Path, monkeypatch):
    """With a live table (cache.live, as a watching process has) the last archive's runs are found by
    their entries' identity; the archive equals a cold one after the edit, after a new name, after a
    removed one and after an entry that became large."""
    from course_builder.liveunits import LiveUnits

    rnd = random.Random(3)
    entries = {f"activities/page_{i}/{name}": rnd.randbytes(200)
               for i in range(300) for name in ("module.xml", "page.xml", "inforef.xml")}
    entries["files.xml"] = _files_xml(20000)
    cache = Cache(tmp_path / "cache")
    cache.keep_in_memory()
    cache.live = LiveUnits()
    tar_gz_bytes(entries.items(), first=("files.xml",), cache=cache)

    raw_sizes: list[int] = []
    original = tarwriter._deflate
    monkeypatch.setattr(tarwriter, "_deflate", lambda raw: raw_sizes.append(len(raw)) or original(raw))
    edits = [("edit", lambda e: e.__setitem__("activities/page_150/page.xml", b"<page>neu</page>")),
             ("new name", lambda e: e.__setitem__("files/ab/abcdef", b"x" * 100)),
             ("removed", lambda e: e.pop("activities/page_7/inforef.xml")),
             ("became large", lambda e: e.__setitem__("activities/page_8/page.xml", rnd.randbytes(40_000)))]
    for name, edit in edits:
        edit(entries)
        raw_sizes.clear()
        warm = tar_gz_bytes(entries.items(), first=("files.xml",), cache=cache)
        compressed = list(raw_sizes)
        assert warm == tar_gz_bytes(entries.items(), first=("files.xml",)), name
        assert _read(warm) == entries, name
        if name == "edit":  # one small run and the archive's end; files.xml is the same object
            assert sum(compressed[:-1]) < 40 * 512 and len(compressed) <= 3, compressed


def test_sorted_names_made_from_the_last_ones_equal_a_fresh_sort():
    """A long-running process keeps the sorted names and folders and applies what came and went."""
    from course_builder.liveunits import LiveUnits

    cache = Cache(None)
    cache.live = LiveUnits()
    rnd = random.Random(5)
    names = {f"files/{rnd.randrange(16):x}{rnd.randrange(16):x}/{rnd.getrandbits(40):010x}" for _ in range(500)}
    names |= {f"activities/scorm_{i}/{f}" for i in range(50) for f in ("module.xml", "scorm.xml")}
    for step in range(30):
        gone = set(rnd.sample(sorted(names), rnd.randrange(0, 4)))
        if step % 7 == 0:  # a whole folder goes
            gone |= {n for n in names if n.startswith(f"activities/scorm_{step}/")}
        names = (names - gone) | {f"files/{rnd.getrandbits(8):02x}/{rnd.getrandbits(40):010x}" for _ in range(rnd.randrange(0, 3))}
        folders = {name[:i + 1] for name in names for i, c in enumerate(name) if c == "/"}
        assert sorted_with_folders(names, cache, "t") == sorted(names | folders), step
