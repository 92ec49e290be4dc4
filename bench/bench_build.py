"""Benchmark: wall time of `course check` and `course build` for the bundled course and synthetic ones.

Run: .venv/bin/python bench/bench_build.py [--repeat N] [--sizes 10,100,1000] [--targets html]
Prints a table of median wall times (ms) and the scaling ratio against the 10-module course.
Each measurement runs the real CLI in a fresh process, as a designer or CI would.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def timed(args: list[str], repeat: int, expect: str) -> float:
    """Median wall time; the run must succeed and print `expect`, so nothing is timed that did not work."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0 or expect not in proc.stdout + proc.stderr:
            raise SystemExit(f"failed: {' '.join(args)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--targets", default="html", help="comma-separated targets for `course build`")
    args = parser.parse_args()
    targets = [t for name in args.targets.split(",") for t in ("-t", name)]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        base = timed(COURSE + ["--version"], args.repeat, "version")
        courses = [("bundled course", REPO)]
        for size in [int(s) for s in args.sizes.split(",") if s]:
            courses.append((f"synthetic {size} modules", synthetic_course(tmp_path / f"c{size}", size)))
        for label, root in courses:
            check = timed(COURSE + ["check", str(root)], args.repeat, "0 error(s)")
            out = tmp_path / f"out-{root.name}"
            build = timed(COURSE + ["build", str(root), "--out", str(out)] + targets, args.repeat, "target(s) in")
            shutil.rmtree(out, ignore_errors=True)
            rows.append((label, check, build))

    print(f"course_builder benchmark (median of {args.repeat}, wall time; targets: {args.targets})")
    print(f"python start-up + import baseline: {base * 1000:8.0f} ms")
    print(f"{'course':28} {'check ms':>10} {'build ms':>10} {'check ×':>9} {'build ×':>9}")
    ref = next((r for r in rows if r[0].startswith("synthetic")), rows[0])
    for label, check, build in rows:
        print(f"{label:28} {check * 1000:10.0f} {build * 1000:10.0f} {check / ref[1]:9.2f} {build / ref[2]:9.2f}")
    synth = [r for r in rows if r[0].startswith("synthetic")]
    if len(synth) >= 2:
        first, last = synth[0], synth[-1]
        n0, n1 = int(first[0].split()[1]), int(last[0].split()[1])
        print(f"scaling {n0} → {n1} modules ({n1 / n0:.0f}× the size): check {last[1] / first[1]:.1f}×, "
              f"build {last[2] / first[2]:.1f}×")


if __name__ == "__main__":
    main()
