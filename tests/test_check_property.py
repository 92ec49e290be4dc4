"""Property: whatever an author does to valid sources, `course` answers with diagnostics, never a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MINI, run_course

SOURCES = sorted(p.relative_to(MINI).as_posix() for p in MINI.rglob("*") if p.is_file())

# Characters that matter to the formats: YAML and quiz syntax, Markdown, HTML, quotes, umlauts.
SYNTAX = list(":-#{}[]()=>*!|&'\"\\\t\n `~<>%@,.ßäöüÄÖÜ€") + ["\n  ", "- (x) ", "- [ ] ", "- = ", "## ", "---\n",
                                                            "{weight=", "objectives=", "<script>", "javascript:", "\r\n"]
text_pieces = st.one_of(st.sampled_from(SYNTAX), st.text(max_size=12))


@st.composite
def mutation(draw):
    return draw(st.sampled_from(SOURCES)), draw(st.lists(
        st.tuples(st.sampled_from(["insert", "delete", "replace", "dup-line", "drop-line", "bytes", "truncate"]),
                  st.floats(0, 1), st.floats(0, 1), text_pieces, st.binary(max_size=8)),
        min_size=1, max_size=4))


def apply(data: bytes, ops) -> bytes:
    for op, a, b, piece, raw in ops:
        i = int(a * len(data))
        j = min(len(data), i + int(b * 40))
        if op == "insert":
            data = data[:i] + piece.encode() + data[i:]
        elif op == "delete":
            data = data[:i] + data[j:]
        elif op == "replace":
            data = data[:i] + piece.encode() + data[j:]
        elif op in ("dup-line", "drop-line"):
            lines = data.split(b"\n")
            k = int(a * (len(lines) - 1)) if lines else 0
            if op == "dup-line":
                lines.insert(k, lines[k])
            else:
                del lines[k]
            data = b"\n".join(lines)
        elif op == "bytes":
            data = data[:i] + raw + data[i:]
        elif op == "truncate":
            data = data[:i]
    return data


@settings(max_examples=int(os.environ.get("COURSE_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation())
def test_mutated_sources_never_crash(tmp_path_factory, case):
    rel, ops = case
    root = tmp_path_factory.mktemp("mut") / "course"
    shutil.copytree(MINI, root)
    target = root / rel
    target.write_bytes(apply(target.read_bytes(), ops))

    run = run_course("check", str(root), "--format", "json")
    assert run.exception is None, f"check crashed on {rel}: {run.exception!r}"
    assert "Traceback" not in run.output
    assert run.code in (0, 1), run.output

    if run.code == 0:  # what passes the check must also build
        out = root.parent / "out"
        built = run_course("build", str(root), "--out", str(out), "-t", "html")
        assert built.exception is None, f"build crashed on {rel}: {built.exception!r}"
        assert built.code == 0, built.output
