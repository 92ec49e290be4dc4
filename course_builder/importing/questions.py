"""`course import questions`: a Moodle XML or GIFT file → quiz files in the authoring format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from .. import diagnostics as d
from ..atomic import write_atomically
from ..cache import gc_paused
from ..diagnostics import Diagnostic, SourceLoc
from ..markdown import slugify
from ..model import Question
from .errors import ImportFailed
from .quiz_writer import quiz_file, question as question_text
from .read_form import ReadBank
from .to_model import Converter, Media

UNIMPORTED = "unimported.xml"


@dataclass
class QuizPlan:
    folder: str  # below assessments/
    title: str
    module: str | None
    questions: list[Question] = field(default_factory=list)
    media: Media = field(default_factory=Media)


@dataclass
class ImportResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    quizzes: list[QuizPlan] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(x.is_error for x in self.diagnostics)


def read_file(path: Path) -> ReadBank:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(d.diag(d.IMPORT_UNREADABLE, SourceLoc(str(path), 1, 1), f"cannot read the file: {exc.strerror}",
                                  "check the path")) from None
    if path.suffix.lower() == ".xml" or raw.lstrip().startswith(b"<"):
        from . import moodle_xml
        return moodle_xml.read(raw, str(path))
    from . import gift
    return gift.read(raw, str(path))


def plan(bank: ReadBank, module: str | None) -> tuple[list[QuizPlan], list[Diagnostic]]:
    """One quiz per category two levels deep (course/module, as `course build` writes them); deeper
    categories (the item pools) join their ancestor's quiz, their name as the questions' group."""
    plans: dict[str, QuizPlan] = {}
    diagnostics: list[Diagnostic] = []
    used_ids: set[str] = set()
    for cat in bank.categories:
        if not cat.questions:
            continue
        head = cat.path[:2] or ["Importierte Fragen"]
        group = slugify(cat.path[-1]) if len(cat.path) > 2 else None
        key = module or slugify(head[-1]) or "fragen"
        quiz = plans.get(key)
        if quiz is None:
            quiz = plans[key] = QuizPlan(key, head[-1], module)
        converter = Converter(bank.file, quiz.media)
        for rq in cat.questions:
            q = converter.question(rq)
            if q.id and q.id in used_ids:
                diagnostics.append(d.diag(d.IMPORT_NOT_CARRIED, q.loc, f"idnumber '{q.id}' is used twice; the second is dropped as id"))
                q.id = ""
            used_ids.add(q.id)
            q.group = group
            quiz.questions.append(q)
        diagnostics += converter.diagnostics
    return list(plans.values()), diagnostics


def import_questions(source: Path, into: Path, module: str | None = None, force: bool = False) -> ImportResult:
    with gc_paused():  # a large bank: many small objects, no cycles (bench/bench_import.py)
        return _import_questions(source, into, module, force)


def _import_questions(source: Path, into: Path, module: str | None, force: bool) -> ImportResult:
    result = ImportResult()
    try:
        bank = read_file(source)
    except ImportFailed as exc:
        result.diagnostics.append(exc.diagnostic)
        return result
    quizzes, diagnostics = plan(bank, module)
    result.quizzes = quizzes
    result.diagnostics += bank.diagnostics + diagnostics
    if result.failed:
        return result
    assessments = into / "assessments"
    files: dict[Path, bytes] = {}
    for quiz in quizzes:
        folder = assessments / (_module_folder(into, module) if module else quiz.folder)
        quiz_path = folder / "quiz.md"
        if module and quiz_path.exists():  # into a module's quiz: the questions are added at its end
            old = quiz_path.read_text(encoding="utf-8")
            files[quiz_path] = (old.rstrip("\n") + "\n\n" + "".join(question_text(q) for q in quiz.questions)).encode()
        else:
            files[quiz_path] = quiz_file(quiz.title, quiz.module, "", quiz.questions).encode()
        for rel, content in quiz.media.files.items():
            files[folder / quiz.media.folder / rel] = content
    if bank.unimported:
        target = assessments / UNIMPORTED
        files[target] = _unimported_xml(bank).encode()
        result.diagnostics = [_name_target(x, target) for x in result.diagnostics]
    appended = {p for p in files if module and p.name == "quiz.md" and p.exists()}
    clashes = [p for p in files if p.exists() and p not in appended]
    if clashes and not force:
        for p in clashes:
            result.diagnostics.append(d.diag(d.IMPORT_EXISTS, SourceLoc(str(p), 1, 1), f"{p} exists; nothing was written",
                                             "pass --force to overwrite it, or import into another folder"))
        return result
    for path, content in sorted(files.items()):
        write_atomically(path, lambda fh, c=content: fh.write(c))
        result.written.append(path)
    return result


def _module_folder(into: Path, module: str) -> str:
    """The assessments folder of a module: the one named like its modules/ folder (e.g. 01-slug), else the slug."""
    for folder in sorted((into / "modules").glob(f"*{module}")) if (into / "modules").is_dir() else []:
        if folder.name == module or folder.name.split("-", 1)[-1] == module:
            return folder.name
    return module


def _name_target(x: Diagnostic, target: Path) -> Diagnostic:
    if "{unimported}" not in x.message:
        return x
    return d.Diagnostic(x.code, x.loc, x.message.replace("{unimported}", str(target)), x.hint)


def _unimported_xml(bank: ReadBank) -> str:
    parts = [f"<!-- {xml_escape(bank.file)} line {u.line}: type {xml_escape(u.qtype)} -->\n  {u.xml.strip()}\n"
             for u in bank.unimported]
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n  ' + "  ".join(parts) + "</quiz>\n"
