"""Item-writing checks: keys a test-wise learner can guess without knowing the content.

Each rule follows a classic item-writing guideline (Haladyna, Downing & Rodriguez 2002, "A Review of
Multiple-Choice Item-Writing Guidelines"): the right option should not stand out by its length,
answer keys should be balanced, distractors should not carry absolute words ("immer", "nie") that
the right option lacks, a stem should not give its own or another item's answer away. They are
warnings: a designer may have reasons; `checks: disable:` in course.yaml switches any of them off.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Answer, Course, Question, Quiz
from ..nodememo import node_memo
from . import check, node_findings, per_node

ABSOLUTE_WORDS = frozenset({
    "immer", "nie", "niemals", "stets", "ausschließlich", "ausnahmslos", "keinesfalls", "jederzeit",
    "grundsätzlich", "sämtliche", "always", "never", "only", "none",
})
ABSOLUTE_PHRASES = ("in jedem fall", "auf keinen fall", "unter allen umständen", "ohne ausnahme")
# Words too common to tell two texts apart (German and English function words, and quiz boilerplate).
STOPWORDS = frozenset("""
der die das den dem des ein eine einer eines einem einen und oder aber als auch auf aus bei bis
für mit nach von vor zu zum zur im in an am um über unter durch ist sind war wird werden wurde
hat haben kann können soll sollen muss müssen nicht kein keine es sie er wir ihr ihre ihren ihrem
ihres ihrer ihnen sich sein seine was wie wer welche welcher welches wo wann warum dass ob wenn
so noch nur schon sehr mehr dann denn doch da hier dort diese dieser dieses diesem diesen jede
jeder jedes man mal etwa z b bitte sie ihr geben nennen beschreiben begründen kurz
the a an and or of to in on for is are be it this that with as by at from
""".split())
MIN_ITEMS = 4  # below this, a share says nothing about a pattern
WORD = re.compile(r"[\wäöüß]+", re.IGNORECASE)


def plain(answer_or_text) -> str:
    """An option's text as a learner reads it: Markdown emphasis and code marks dropped, spaces folded."""
    text = answer_or_text.text.markdown if isinstance(answer_or_text, Answer) else str(answer_or_text)
    return " ".join(re.sub(r"[*_`]", "", text).split())


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 2}


def _where(q: Question) -> str:
    return f"'{q.name}' ({q.loc.file}:{q.loc.line})"


def _examples(items: list[Question], limit: int = 4) -> str:
    shown = ", ".join(_where(q) for q in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _settings(course: Course):
    from ..model import ChecksConfig

    return course.spec.checks if course.spec is not None else ChecksConfig()


def _auto_quizzes(course: Course) -> list[Quiz]:
    return [quiz for quiz in course.quizzes if quiz.questions]


@check
def right_answer_longest(course: Course) -> list[Diagnostic]:
    """Per quiz: how often the single-choice key is the longest option."""
    share = _settings(course).longest_right_share
    out = []
    for quiz in _auto_quizzes(course):
        out += node_findings("right-answer-longest", quiz, (share,), lambda quiz=quiz: _longest_keys_in(quiz, share))
    return out


def _longest_keys_in(quiz: Quiz, share: float) -> list[Diagnostic]:
    items = [q for q in quiz.questions if q.type == "single" and len(q.answers) >= 3]
    if len(items) < 3:  # a quiz holds few single-choice items; three already show a habit
        return []
    longest = [q for q in items if _key_is_longest(q)]
    if len(longest) / len(items) <= share:
        return []
    return [d.diag(
        d.ITEM_LONGEST, longest[0].loc,
        f"in {len(longest)} of {len(items)} single-choice questions of '{quiz.id}' the right answer is the "
        f"longest option: {_examples(longest)}",
        "test-wise learners pick the longest option; make distractors as detailed as the key, or shorten the key "
        f"(threshold: checks.longest_right_share = {share:g})")]


def _key_is_longest(q: Question) -> bool:
    lengths = [(len(plain(a)), a.correct) for a in q.answers]
    top = max(length for length, _ in lengths)
    return [correct for length, correct in lengths if length == top] == [True]


@check
def fixed_right_count(course: Course) -> list[Diagnostic]:
    """Across the course: multiple-response items that all have the same number of right options."""
    share = _settings(course).key_pattern_share
    quizzes = _auto_quizzes(course)
    # Each quiz's (right, options) pairs are kept with it: a course of 1,000 quizzes counts them after every edit.
    patterns = [node_memo("right-count-patterns", quiz, lambda quiz=quiz: [
        _right_count(q) for q in quiz.questions if q.type == "multiple"]) for quiz in quizzes]
    total_items = sum(map(len, patterns))
    if total_items < MIN_ITEMS:
        return []
    (right, total), count = Counter(chain.from_iterable(patterns)).most_common(1)[0]
    if count / total_items <= share:
        return []
    same = [q for quiz in quizzes for q in quiz.questions if q.type == "multiple" and _right_count(q) == (right, total)]
    return [d.diag(
        d.ITEM_RIGHT_COUNT, same[0].loc,
        f"{count} of {total_items} multiple-response questions have exactly {right} right of {total} options: {_examples(same)}",
        "learners who notice the pattern need not know the content; vary the number of right answers (1 to all) "
        f"(threshold: checks.key_pattern_share = {share:g})")]


def _right_count(q: Question) -> tuple[int, int]:
    return sum(a.correct for a in q.answers), len(q.answers)


@check
def truefalse_balance(course: Course) -> list[Diagnostic]:
    share = _settings(course).truefalse_share
    items = [q for quiz in _auto_quizzes(course) for q in quiz.questions if q.type == "truefalse" and q.truth is not None]
    if len(items) < MIN_ITEMS:
        return []
    false_items = [q for q in items if q.truth is False]
    true_items = [q for q in items if q.truth is True]
    major, word = (false_items, "falsch") if len(false_items) >= len(true_items) else (true_items, "wahr")
    if len(major) / len(items) <= share:
        return []
    return [d.diag(
        d.ITEM_TRUEFALSE, major[0].loc,
        f"{len(major)} of {len(items)} true/false questions are keyed '{word}': {_examples(major)}",
        f"a learner who always answers '{word}' scores well; balance the keys "
        f"(threshold: checks.truefalse_share = {share:g})")]


def absolute_words(text: str) -> set[str]:
    lowered = " ".join(words(text))
    found = {w for w in words(text) if w in ABSOLUTE_WORDS}
    found |= {p for p in ABSOLUTE_PHRASES if f" {p} " in f" {lowered} "}
    return found


@check
def absolute_distractors(course: Course) -> list[Diagnostic]:
    return per_node(_auto_quizzes(course), _absolute_distractors_in)


def _absolute_distractors_in(quiz: Quiz) -> list[Diagnostic]:
    out = []
    for q in quiz.questions:
        if q.type not in ("single", "multiple"):
            continue
        if any(absolute_words(plain(a)) for a in q.answers if a.correct):
            continue  # the absolute word is no cue when right options carry such words too
        for a in q.answers:
            found = absolute_words(plain(a)) if not a.correct else set()
            if found:
                out.append(d.diag(
                    d.ITEM_ABSOLUTE, a.loc,
                    f"wrong option of {_where(q)} contains {', '.join(sorted(found))!s} and no right option does",
                    "absolute words mark options as wrong for test-wise learners; qualify the distractor or "
                    "phrase the right option with the same strength"))
    return out


@check
def leading_wildcard(course: Course) -> list[Diagnostic]:
    return per_node(_auto_quizzes(course), _leading_wildcards_in)


def _leading_wildcards_in(quiz: Quiz) -> list[Diagnostic]:
    out = []
    for q in quiz.questions:
        if q.type != "short":
            continue
        for a in q.answers:
            text = a.text.markdown.strip()
            if text.startswith("*") and a.weight > 0:
                out.append(d.diag(
                    d.ITEM_WILDCARD, a.loc,
                    f"accepted answer '{text}' of {_where(q)} starts with a wildcard, so it also accepts e.g. "
                    f"'nicht {' '.join(text.replace('*', ' ').split())}'",
                    "list the accepted spellings instead, or put the wildcard only at the end"))
    return out


def _keys(q: Question) -> list[str]:
    """The right answers as text a stem could contain (wildcards and true/false keys have none)."""
    if q.type not in ("single", "multiple", "short"):
        return []
    keys = []
    for a in q.answers:
        if a.correct or (q.type == "short" and a.weight > 0):
            text = plain(a).replace("*", "").strip()
            if len(text) >= 4:
                keys.append(text)
    return keys


def _contains(haystack: str, needle: str) -> bool:
    return re.search(r"(?<![\wäöüß])" + re.escape(needle.lower()) + r"(?![\wäöüß])", haystack.lower()) is not None


@check
def stem_gives_answer_away(course: Course) -> list[Diagnostic]:
    return per_node(_auto_quizzes(course), _stems_giving_answers_away_in)


def _stems_giving_answers_away_in(quiz: Quiz) -> list[Diagnostic]:
    out = []
    for q in quiz.questions:
        stem = plain(q.text.markdown)
        for key in _keys(q):
            if q.type == "short" and _contains(stem, key):
                out.append(d.diag(d.ITEM_STEM_ANSWER, q.loc, f"the stem of {_where(q)} contains its answer '{key}'",
                                  "rephrase the stem so that it does not name what it asks for"))
                break
        for other in quiz.questions:
            if other is q:
                continue
            if other.type != "short":
                continue  # choice keys are sentences; a stem repeating one word of them is no give-away
            given = [key for key in _keys(other) if len(key) >= 6 and _contains(stem, key)]
            if given:
                out.append(d.diag(
                    d.ITEM_STEM_ANSWER, q.loc,
                    f"the stem of {_where(q)} contains '{given[0]}', the answer to {_where(other)} in the same quiz",
                    "rephrase one of the two questions so that neither gives the other away"))
    return out


@check
def same_answer_twice(course: Course) -> list[Diagnostic]:
    """Two questions of a quiz share a right answer, or one shows as an option what the other asks for."""
    return per_node(_auto_quizzes(course), _same_answers_in)


def _same_answers_in(quiz: Quiz) -> list[Diagnostic]:
    out = []
    questions = quiz.questions
    for i, later in enumerate(questions):
        later_keys = {k.lower() for k in _keys(later)}
        for earlier in questions[:i]:
            shared = later_keys & {k.lower() for k in _keys(earlier)}
            shown = _shown_answer(earlier, later) or _shown_answer(later, earlier)
            if shared or shown:
                what = f"the same right answer ('{sorted(shared)[0]}')" if shared else f"'{shown}' as an option and as the answer"
                out.append(d.diag(
                    d.ITEM_SAME_ANSWER, later.loc, f"{_where(later)} and {_where(earlier)} have {what}",
                    "in one attempt the one question answers the other; ask for something else, or merge them"))
    return out


def _shown_answer(choice: Question, short: Question) -> str | None:
    """A short question's answer that another question lists among its options."""
    if short.type != "short" or choice.type not in ("single", "multiple"):
        return None
    options = {plain(a).lower() for a in choice.answers}
    return next((key for key in _keys(short) if key.lower() in options), None)


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's content words that the other text has too."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


@check
def essay_repeats_reflection(course: Course) -> list[Diagnostic]:
    limit = _settings(course).essay_overlap
    reflections = [t for t in course.tasks if t.kind == "reflection"]
    out = []
    for quiz in _auto_quizzes(course):
        for q in quiz.questions:
            if q.type != "essay":
                continue
            stem = plain(q.text.markdown)
            for task in reflections:
                if task.module != quiz.module:
                    continue
                for prompt in task.meta.questions:
                    score = overlap(stem, prompt)
                    if score >= limit and len(content_words(prompt) & content_words(stem)) >= 3:
                        out.append(d.diag(
                            d.ITEM_ESSAY_REFLECTION, q.loc,
                            f"essay {_where(q)} asks much the same as the reflection task '{task.id}' "
                            f"({score:.0%} of the words): \"{prompt[:80]}\"",
                            "learners then write the same text twice; let the essay assess and the reflection task "
                            f"reflect, or drop one (threshold: checks.essay_overlap = {limit:g})"))
                        break
    return out
