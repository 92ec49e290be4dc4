"""The course's questions as Moodle sees them: one neutral form for the Moodle XML, GIFT and .mbz writers.

Each model question becomes a `MoodleQuestion` with Moodle's question type, fractions taken from
Moodle's list of allowed grades, HTML texts whose images point at @@PLUGINFILE@@ and the files
they need. The writers only serialise this form, so the three outputs cannot disagree.
"""

from __future__ import annotations

import html as htmllib
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from ...markdown import rewrite_urls
from ...model import TRUE_WORDS, Asset, Course, Html, Question, Quiz
from ...quizparse import MOODLE_FRACTIONS, moodle_fraction
from ..notices import notice

log = logging.getLogger(__name__)

QTYPE = {
    "single": "multichoice", "multiple": "multichoice", "truefalse": "truefalse", "short": "shortanswer",
    "numerical": "numerical", "matching": "match", "ordering": "ordering", "essay": "essay",
}
# Moodle's defaults for a new question of each type (question/type/*/edit_*_form.php).
PENALTY = {"truefalse": 1.0, "essay": 0.0}
DEFAULT_PENALTY = 0.3333333
COMBINED_FEEDBACK_TYPES = {"multichoice", "match", "ordering"}


@dataclass(frozen=True)
class File:
    """A file a text embeds; Moodle keeps it in the text's file area, named by its base name."""

    name: str
    content: bytes


@dataclass
class Text:
    html: str = ""
    files: list[File] = field(default_factory=list)


@dataclass
class MoodleAnswer:
    text: Text
    fraction: float  # Moodle's stored grade: 1.0 = 100 %; for ordering the item's position
    feedback: Text = field(default_factory=Text)
    format: str = "html"  # html or moodle_auto_format (plain answers: short, numerical, true/false)
    tolerance: float | None = None  # numerical only


@dataclass
class Subquestion:
    """One matching pair; an empty text makes the answer a distractor."""

    text: Text
    answer: str  # plain text, as Moodle shows it in the drop-down


@dataclass
class MoodleQuestion:
    source: Question
    qtype: str
    name: str
    idnumber: str
    text: Text
    general_feedback: Text
    default_mark: float
    penalty: float
    answers: list[MoodleAnswer] = field(default_factory=list)
    subquestions: list[Subquestion] = field(default_factory=list)
    hints: list[Text] = field(default_factory=list)
    single: bool = True
    shuffle: bool = True
    answer_numbering: str = "abc"
    correct_feedback: Text = field(default_factory=Text)
    partial_feedback: Text = field(default_factory=Text)
    incorrect_feedback: Text = field(default_factory=Text)
    use_case: bool = False
    min_words: int | None = None
    max_words: int | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[File]:
        texts = [self.text, self.general_feedback, self.correct_feedback, self.partial_feedback,
                 self.incorrect_feedback, *self.hints, *(s.text for s in self.subquestions)]
        for a in self.answers:
            texts += [a.text, a.feedback]
        return [f for t in texts for f in t.files]


@dataclass
class Category:
    name: str
    path: list[str]  # names below "top", e.g. [course title, module title]
    info: str = ""
    idnumber: str = ""
    questions: list[MoodleQuestion] = field(default_factory=list)
    quiz: Quiz | None = None
    parent: str | None = None  # idnumber of the module category an item pool's category sits in
    draw: int = 0  # an item pool's category: questions an attempt draws from it

    @property
    def moodle_path(self) -> str:
        """`$course$/top/<course>/<module>`; a '/' inside a name is written '//' as Moodle expects."""
        return "$course$/top/" + "/".join(part.replace("/", "//") for part in self.path)


@dataclass
class Bank:
    course_category: Category
    # one per module (or per quiz without a module), in course order; after a module's category the
    # categories of its quiz's item pools (`draw:`), which hold those questions
    categories: list[Category]

    @property
    def questions(self) -> list[MoodleQuestion]:
        return [q for c in self.categories for q in c.questions]


def bank(course: Course, only: list[Quiz] | None = None) -> Bank:
    """Every quiz question of the course (or of the quizzes `only` names), grouped by module, as Moodle
    questions."""
    top = Category(course.title, [course.title], info=_para(course.spec.summary if course.spec else ""),
                   idnumber=course.id)
    categories: list[Category] = []
    by_key: dict[str, Category] = {}
    wanted = None if only is None else {id(q) for q in only}
    for quiz in _quizzes_in_course_order(course):
        if wanted is not None and id(quiz) not in wanted:
            continue
        module = course.module(quiz.module) if quiz.module else None
        key = module.id if module else f"quiz:{quiz.id}"
        title = module.title if module else quiz.title
        cat = by_key.get(key)
        if cat is None:
            cat = Category(title, [course.title, title], info=_para(module.spec.summary if module else ""),
                           idnumber=f"{course.id}-{module.id if module else quiz.id}", quiz=quiz)
            by_key[key] = cat
            categories.append(cat)
        cat.questions.extend(moodle_question(q) for q in quiz.questions)
        categories += _pools(cat, quiz)
    return Bank(top, categories)


def _pools(cat: Category, quiz: Quiz) -> list[Category]:
    """A category per item pool of the quiz (the partition of Quiz.pools), its questions moved there:
    the whole pool, for random questions that draw from it."""
    if not quiz.meta.draw:
        return []
    by_source = {id(q.source): q for q in cat.questions}
    pools = []
    for (count, members), (_, pool) in zip(quiz.pools(), quiz.meta.draws):
        moved = [by_source.pop(id(q)) for q in members if id(q) in by_source]
        pools.append(Category(pool, [*cat.path, pool], idnumber=f"{cat.idnumber}-{pool}", questions=moved,
                              quiz=quiz, parent=cat.idnumber, draw=count))
    cat.questions = [q for q in cat.questions if id(q.source) in by_source]
    return pools


def bank_inputs(course: Course) -> tuple:
    """Everything bank() reads, for cache keys: the course frame, each module's title and summary, every quiz."""
    return (course.spec, [(m.id, m.spec) for m in course.modules], course.quizzes)


def _quizzes_in_course_order(course: Course) -> list[Quiz]:
    order = {m.id: i for i, m in enumerate(course.modules)}
    return sorted(course.quizzes, key=lambda q: (order.get(q.module or "", len(order)), q.id))


def _para(text: str) -> str:
    text = text.strip()
    return f"<p>{htmllib.escape(text, quote=False)}</p>" if text else ""


def plain(html: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded)."""
    return htmllib.unescape(re.sub(r"<[^>]*>", "", html)).strip()


def text(value: Html, assets: list[Asset]) -> Text:
    """HTML with every local image pointing at @@PLUGINFILE@@/<name>, and the files it needs."""
    if not value:
        return Text()
    by_src = {a.src: a for a in assets if a.path is not None and a.path.is_file()}
    files: dict[str, File] = {}

    def rewrite(url: str) -> str:
        asset = by_src.get(url.replace("&amp;", "&"))
        if asset is None:
            return url
        name = asset.path.name
        files.setdefault(name, File(name, asset.path.read_bytes()))
        return "@@PLUGINFILE@@/" + quote(name)

    html = rewrite_urls(value.html, rewrite).strip()
    return Text(html, [files[k] for k in sorted(files)])


def fraction(weight: float, question: Question) -> float:
    """Moodle's grade for a weight in percent: one of its allowed grades, as a fraction of 1."""
    allowed = moodle_fraction(weight)
    if allowed is None:
        nearest = min(MOODLE_FRACTIONS, key=lambda f: abs(abs(weight) - f))
        allowed = nearest if weight >= 0 else -nearest
        notice(log, "{n} answer weights are no Moodle grade and were rounded to the nearest one",
               f"question '{question.id}': weight {weight:g} is not a Moodle grade; using {allowed:g}")
    return round(allowed / 100.0, 7)


def moodle_question(q: Question) -> MoodleQuestion:
    qtype = QTYPE[q.type]
    t = lambda h: text(h, q.assets)  # noqa: E731 - every text of this question resolves its images the same way
    mq = MoodleQuestion(
        source=q, qtype=qtype, name=q.name, idnumber=q.id, tags=list(q.tags), text=t(q.text), general_feedback=t(q.feedback),
        default_mark=q.points, penalty=PENALTY.get(qtype, DEFAULT_PENALTY), hints=[t(h) for h in q.hints],
        single=q.type != "multiple", shuffle=q.shuffle, use_case=q.case_sensitive,
        min_words=q.min_words, max_words=q.max_words,
    )
    if qtype in COMBINED_FEEDBACK_TYPES:
        mq.correct_feedback = t(q.correct_feedback)
        mq.partial_feedback = t(q.partial_feedback)
        mq.incorrect_feedback = t(q.incorrect_feedback)
    if q.type in ("single", "multiple"):
        mq.answers = [MoodleAnswer(t(a.text), fraction(a.weight, q), t(a.feedback)) for a in q.answers]
    elif q.type == "truefalse":
        by_truth = {a.text.markdown.strip().lower() in TRUE_WORDS: a for a in q.answers}
        truth = q.truth
        for value in (True, False):
            a = by_truth.get(value)
            mq.answers.append(MoodleAnswer(Text("true" if value else "false"), 1.0 if value == truth else 0.0,
                                           t(a.feedback) if a else Text(), format="moodle_auto_format"))
        _fold_outcome_feedback(mq, q, t)
    elif q.type == "short":
        mq.answers = [MoodleAnswer(Text(a.text.markdown.strip()), fraction(a.weight, q), t(a.feedback),
                                   format="moodle_auto_format") for a in q.answers]
        _catch_all(mq, q, t)
    elif q.type == "numerical":
        mq.answers = [MoodleAnswer(Text(_number(a.value)), fraction(a.weight, q), t(a.feedback),
                                   format="moodle_auto_format", tolerance=a.tolerance)
                      for a in q.answers if a.value is not None]
        _catch_all(mq, q, t)
    elif q.type == "matching":
        mq.subquestions = [Subquestion(t(a.text), plain(a.match.html) if a.match else "") for a in q.answers]
        _fold_pair_feedback(mq, q, t)
    elif q.type == "ordering":
        items = sorted(q.answers, key=lambda a: a.value or 0)
        mq.answers = [MoodleAnswer(t(a.text), float(i)) for i, a in enumerate(items, 1)]
        _fold_item_feedback(mq, items, t)
    return mq


def _catch_all(mq: MoodleQuestion, q: Question, t) -> None:
    """Short and numerical questions have no combined feedback: Moodle's idiom is a '*' answer worth 0."""
    if q.incorrect_feedback:
        mq.answers.append(MoodleAnswer(Text("*"), 0.0, t(q.incorrect_feedback), format="moodle_auto_format",
                                       tolerance=0.0 if q.type == "numerical" else None))
    _fold_outcome_feedback(mq, q, t, incorrect=False)


def _fold_outcome_feedback(mq: MoodleQuestion, q: Question, t, incorrect: bool = True) -> None:
    """Types without combined feedback: 'correct:'/'partial:'/'incorrect:' go to answers that lack their own."""
    for a in mq.answers:
        if a.feedback.html:
            continue
        if a.fraction >= 1.0 and q.correct_feedback:
            a.feedback = t(q.correct_feedback)
        elif 0 < a.fraction < 1.0 and q.partial_feedback:
            a.feedback = t(q.partial_feedback)
        elif a.fraction <= 0 and incorrect and q.incorrect_feedback:
            a.feedback = t(q.incorrect_feedback)


def _fold_pair_feedback(mq: MoodleQuestion, q: Question, t) -> None:
    """Moodle's match type has no feedback per pair: the pairs' feedback joins the general feedback."""
    items = []
    for a in q.answers:
        if not a.feedback:
            continue
        left = plain(a.text.html) if a.text else "—"
        right = plain(a.match.html) if a.match else ""
        label = htmllib.escape(f"{left} → {right}", quote=False)
        items.append(f"<li><strong>{label}</strong>: {t(a.feedback).html}</li>")
    if items:
        pairs = Text("<ul>" + "".join(items) + "</ul>", [f for a in q.answers for f in t(a.feedback).files])
        mq.general_feedback = Text(mq.general_feedback.html + pairs.html,
                                   _unique(mq.general_feedback.files + pairs.files))


def _fold_item_feedback(mq: MoodleQuestion, items: list, t) -> None:
    """qtype_ordering drops feedback per item when it saves a question: it joins the general feedback."""
    entries = [f"<li><strong>{htmllib.escape(plain(a.text.html), quote=False)}</strong>: {t(a.feedback).html}</li>"
               for a in items if a.feedback]
    if entries:
        files = [f for a in items for f in t(a.feedback).files]
        mq.general_feedback = Text(mq.general_feedback.html + "<ol>" + "".join(entries) + "</ol>",
                                   _unique(mq.general_feedback.files + files))


def _unique(files: list[File]) -> list[File]:
    seen: dict[str, File] = {}
    for f in files:
        seen.setdefault(f.name, f)
    return [seen[k] for k in sorted(seen)]


def _number(value: float | None) -> str:
    return number(value or 0.0)


def number(value: float) -> str:
    """A number with a decimal point, no exponent and no trailing zeros: 2.5, 50, 0.0001."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def php_float(value: float) -> str:
    """A float as PHP prints it (precision 14): 33.33333, 100, -50."""
    text = f"{value:.14G}"
    if "E" in text:
        text = number(value)
    return "0" if text == "-0" else text


def percent(fraction_value: float) -> str:
    """The fraction attribute Moodle's exporter writes: the stored grade times 100."""
    return php_float(round(fraction_value, 7) * 100)
