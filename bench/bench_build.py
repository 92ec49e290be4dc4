"""Benchmark: wall time of `course check` and `course build` for the bundled course and synthetic ones.

Run: .venv/bin/python bench/bench_build.py [--repeat N] [--sizes 10,100,1000] [--targets html] [--modes edit]
--targets takes target names, `all` (every default target, as a plain `course build`) or
`all-but:NAME,…` (the default targets without those, e.g. `all-but:moodle-backup` to see one target's
share); --modes picks some of: no cache, cold, warm, edit (a warm cache is filled, untimed, first).
Prints the load average before and after (the machine may be shared: compare runs made back to back), and, for check and build, median wall and CPU times (ms) without the cache, with an empty (cold)
cache, a warm one, and a warm one after one lesson was edited, with the ratios, and how a cold run
scales from the smallest to the largest synthetic course. CPU time (user + system of the command)
is the steadier figure on a machine that other work shares. Each measurement runs the real CLI in a fresh
process, as a designer or CI would; the bundled course is measured on a copy.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
COURSE = [sys.executable, "-m", "course_builder"]

LESSON = """---
title: Lerneinheit {n}
minutes: 20
---

## Abschnitt {n}

Netzwerkkoordinator:innen verbinden Akteur:innen aus Wirtschaft, Schule und Verwaltung. {filler}

- Erster Punkt mit **Betonung**
- Zweiter Punkt mit [Link](#abschnitt-{n})

| Spalte | Wert |
| --- | --- |
| A | {n} |
"""

QUIZ = """---
kind: quiz
title: Wissenscheck {m}
attempts: 3
---

## single: Frage {{objectives=ziel}}
Was ist richtig?

- (x) Richtig
  Stimmt, weil es so ist.
- ( ) Falsch
  Stimmt nicht, weil es anders ist.

## multiple: Mehrfach {{objectives=ziel}}
Was gehört dazu?

- [x] A
  Ja.
- [x] B
  Ja.
- [ ] C
  Nein.

## numerical: Zahl {{objectives=ziel}}
Wie viel?

- = 42 ± 0.5
  Genau.

## matching: Paare {{objectives=ziel}}
Ordnen Sie zu.

- Links => Rechts
  Passt.
- Oben => Unten
  Passt.
"""


def synthetic_course(root: Path, modules: int) -> Path:
    """A course of N modules (3 lessons, a quiz each), placed in self-study weeks."""
    weeks = 12
    (root / "modules").mkdir(parents=True)
    (root / "assessments").mkdir()
    self_study = []
    filler = "Sie gestalten Beteiligung, Verstetigung und Kommunikation. " * 20
    for m in range(1, modules + 1):
        slug = f"{m:04d}-modul-{m}"
        folder = root / "modules" / slug
        folder.mkdir()
        (folder / "module.yaml").write_text(
            f"title: Modul {m}\nsummary: Zusammenfassung {m}.\npass_mark: 60\nminutes: 1\n"
            "objectives:\n  - id: ziel\n    text: Ein Ziel.\n", encoding="utf-8")
        for n in range(1, 4):
            (folder / f"0{n}-lektion-{n}.md").write_text(LESSON.format(n=n, filler=filler), encoding="utf-8")
        qdir = root / "assessments" / slug
        qdir.mkdir()
        (qdir / "quiz.md").write_text(QUIZ.format(m=m), encoding="utf-8")
        self_study.append(f"    - week: {(m - 1) % weeks + 1}\n      modules: [modul-{m}]\n")
    dates = ["2027-02-17", "2027-02-24", "2027-03-03", "2027-03-10", "2027-03-17", "2027-03-24",
             "2027-03-31", "2027-04-07", "2027-04-14", "2027-04-21", "2027-04-28", "2027-05-05"]
    webinars = "".join(f'    - date: {d}\n      time: "16:30-18:00"\n      topic: Webinar {i}\n' for i, d in enumerate(dates, 1))
    (root / "course.yaml").write_text(
        "id: synth\ntitle: Synthetischer Kurs\ncohort:\n  run: 1\n  start: 2027-02-15\n  weeks: 12\n"
        "schedule:\n  webinars:\n" + webinars + "  self_study:\n" + "".join(self_study), encoding="utf-8")
    return root


class Timing(NamedTuple):
    wall: float
    cpu: float  # user + system time of the process: steadier than wall time on a busy machine


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], repeat: int, expect: str, before=None) -> Timing:
    """Median wall and CPU time; the run must succeed and print `expect`, so nothing is timed that did
    not work. before(i) runs ahead of each run, untimed (to empty the cache or edit a file)."""
    walls, cpus = [], []
    for i in range(repeat):
        if before is not None:
            before(i)
        cpu = _child_cpu()
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_child_cpu() - cpu)
        if proc.returncode != 0 or expect not in proc.stdout + proc.stderr:
            raise SystemExit(f"failed: {' '.join(args)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return Timing(statistics.median(walls), statistics.median(cpus))


COURSE_PARTS = ["course.yaml", "glossary.yaml", "modules", "assessments"]


def copy_course(src: Path, dst: Path) -> Path:
    """The course's own files (not the repository around the bundled course), to edit freely."""
    dst.mkdir(parents=True)
    for part in COURSE_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, symlinks=True)
        elif (src / part).exists():
            shutil.copy2(src / part, dst / part)
    return dst


def cache_modes(command: list[str], root: Path, cache: Path, repeat: int, expect: str,
                modes: list[str] | None = None) -> dict[str, Timing]:
    """cold (empty cache), warm (nothing changed) and edit (one lesson changed since the last run)."""
    modes = modes or MODES
    lessons = sorted((root / "modules").glob("*/*.md"))
    lesson = lessons[len(lessons) // 2]
    original = lesson.read_text(encoding="utf-8")
    args = command + ["--cache-dir", str(cache)]

    def empty(_: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def edit(i: int) -> None:
        lesson.write_text(original + f"\nEin geänderter Absatz, Fassung {i}.\n", encoding="utf-8")

    times = {}
    if "cold" in modes:
        times["cold"] = timed(args, repeat, expect, empty)
    timed(args, 1, expect)  # fill the cache for the current sources
    if "warm" in modes:
        times["warm"] = timed(args, repeat, expect)
    if "edit" in modes:
        times["edit"] = timed(args, repeat, expect, edit)
    lesson.write_text(original, encoding="utf-8")
    if "no cache" in modes:
        times["no cache"] = timed(command + ["--no-cache"], repeat, expect)
    return times


def target_args(spec: str) -> list[str]:
    """-t options for `course build`: names, `all` (none: every default target) or `all-but:NAME,…`."""
    if spec == "all":
        return []
    if spec.startswith("all-but:"):
        sys.path.insert(0, str(REPO))
        from course_builder import targets

        left_out = set(spec.removeprefix("all-but:").split(","))
        # What a plain `course build` builds: cc only with an LTI tool URL, which the bench does not give.
        wanted = [name for name in targets.expand(targets.names()) if name not in left_out | {"cc"}]
        return [t for name in wanted for t in ("-t", name)]
    return [t for name in spec.split(",") for t in ("-t", name)]


def _ms(times: dict[str, Timing], mode: str, clock: str) -> str:
    return f"{getattr(times[mode], clock) * 1000:10.0f}" if mode in times else f"{'-':>10}"


def _ratio(times: dict[str, Timing], a: str, b: str, clock: str) -> str:
    return f"{getattr(times[a], clock) / getattr(times[b], clock):11.1f}" if a in times and b in times else f"{'-':>11}"


MODES = ["no cache", "cold", "warm", "edit"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--targets", default="html",
                        help="comma-separated targets for `course build`, `all`, or `all-but:NAME,…`")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of: {', '.join(MODES)}")
    parser.add_argument("--no-bundled", action="store_true", help="measure the synthetic courses only")
    args = parser.parse_args()
    targets = target_args(args.targets)
    modes = [m for m in MODES if m in args.modes.split(",")]
    load_before = os.getloadavg()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        base = timed(COURSE + ["--version"], args.repeat, "version")
        courses = [] if args.no_bundled else [("bundled course", copy_course(REPO, tmp_path / "bundled"))]
        for size in [int(s) for s in args.sizes.split(",") if s]:
            courses.append((f"synthetic {size} modules", synthetic_course(tmp_path / f"c{size}", size)))
        for label, root in courses:
            cache = tmp_path / f"cache-{root.name}"
            check = cache_modes(COURSE + ["check", str(root)], root, cache, args.repeat, "0 error(s)", modes)
            out = tmp_path / f"out-{root.name}"
            build = cache_modes(COURSE + ["build", str(root), "--out", str(out)] + targets, root, cache,
                                args.repeat, "", modes)
            shutil.rmtree(out, ignore_errors=True)
            rows.append((label, check, build))

    load_after = os.getloadavg()
    print(f"course_builder benchmark (median of {args.repeat}, in ms; targets: {args.targets})")
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} CPUs")
    print(f"start-up baseline (course --version): wall {base.wall * 1000:.0f}, CPU {base.cpu * 1000:.0f}")
    print("no cache: --no-cache; cold: empty cache (filled by the run); warm: nothing changed since the last run;")
    print("edit: one lesson changed since the last run; edit-base: edit minus the start-up baseline.")
    for command, column in (("check", 1), ("build", 2)):
        for clock in ("wall", "cpu"):
            print(f"\ncourse {command}, {'wall time' if clock == 'wall' else 'CPU time (user + system)'}")
            print(f"{'course':26}" + "".join(f"{m:>10}" for m in MODES)
                  + f"{'edit-base':>11}{'cold/warm':>11}{'cold/edit':>11}")
            for row in rows:
                times = row[column]
                edit_base = (f"{(getattr(times['edit'], clock) - getattr(base, clock)) * 1000:11.0f}"
                             if "edit" in times else f"{'-':>11}")
                print(f"{row[0]:26}" + "".join(_ms(times, m, clock) for m in MODES) + edit_base
                      + _ratio(times, "cold", "warm", clock) + _ratio(times, "cold", "edit", clock))
    synth = [r for r in rows if r[0].startswith("synthetic")]
    if len(synth) >= 2 and "cold" in modes:
        first, last = synth[0], synth[-1]
        n0, n1 = int(first[0].split()[1]), int(last[0].split()[1])
        print(f"\nscaling {n0} → {n1} modules ({n1 / n0:.0f}× the size), cold wall time: check "
              f"{last[1]['cold'].wall / first[1]['cold'].wall:.1f}×, build {last[2]['cold'].wall / first[2]['cold'].wall:.1f}×")


if __name__ == "__main__":
    main()
