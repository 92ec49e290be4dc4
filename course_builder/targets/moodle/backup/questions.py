"""questions.xml: the course's question bank (a category per module, one per item pool below it), each
question with its type's plugin data, hints and the files its texts embed."""

from __future__ import annotations

import dataclasses

from ....model import Quiz
from ..backup_xml import NULL, El, el
from ..bank import Bank, Category, MoodleQuestion, Text, number
from . import files
from .plan import Backup


def asked(bank: Bank, quiz: Quiz) -> tuple[Category | None, list[MoodleQuestion], list[Category]]:
    """The quiz's category, the questions it asks in fixed slots, the item pools' categories it draws
    from (then it has no fixed slots: questions no pool takes are not asked, as elsewhere)."""
    sources = {id(q) for q in quiz.questions}
    cat = next((c for c in bank.categories if c.parent is None
                and (c.quiz is quiz or any(id(q.source) in sources for q in c.questions))), None)
    pools = [c for c in bank.categories if cat and c.parent == cat.idnumber]
    questions = [q for q in cat.questions if id(q.source) in sources] if cat and not pools else []
    return cat, questions, pools


def carried(bank: Bank, quizzes: list[Quiz]) -> Bank:
    """The bank cut down to what quizzes use: their fixed questions and the whole categories their
    random slots draw from; a module's category stays (empty) when only its pools are drawn from."""
    kept: dict[str, set[int]] = {}
    for quiz in quizzes:
        cat, questions, pools = asked(bank, quiz)
        if cat is not None:
            kept.setdefault(cat.idnumber, set()).update(id(q) for q in questions)
            for pool in pools:
                kept.setdefault(pool.idnumber, set()).update(id(q) for q in pool.questions)
    return Bank(bank.course_category, [dataclasses.replace(c, questions=[q for q in c.questions
                                                                         if id(q) in kept[c.idnumber]])
                                       for c in bank.categories if c.idnumber in kept])


def questions_xml(b: Backup) -> El:
    root = El("question_categories")
    top = _category_el(b, b.category_ids["top"], "top", 0, 0, "", NULL, f"top-{b.course.id}")
    course_cat = _category_el(b, b.category_ids["course"], b.bank.course_category.name,
                              b.category_ids["top"], 1, b.bank.course_category.info,
                              b.bank.course_category.idnumber, f"course-{b.course.id}")
    root.add(top.add(El("question_bank_entries")), course_cat.add(El("question_bank_entries")))
    order: dict[str | None, int] = {}
    for cat in b.bank.categories:  # a pool's category follows its module's
        cid = b.category_ids[cat.idnumber]
        order[cat.parent] = order.get(cat.parent, 0) + 1
        parent = b.category_ids[cat.parent] if cat.parent else b.category_ids["course"]
        c = _category_el(b, cid, cat.name, parent, order[cat.parent], cat.info, cat.idnumber,
                         f"category-{cat.idnumber}")
        entries = El("question_bank_entries")
        for q in cat.questions:
            entries.add(_entry(b, q, cid))
        root.add(c.add(entries))
    return root


def _category_el(b: Backup, cid: int, name: str, parent: int, sortorder: int, info: str, idnumber, stamp: str) -> El:
    where = b.questions_context
    return el("question_category", {"id": cid}, name=name, contextid=where.contextid,
              contextlevel=where.contextlevel, contextinstanceid=where.instanceid, info=info, infoformat=1,
              stamp=f"course_builder+{stamp}",
              parent=parent, sortorder=sortorder, idnumber=idnumber)


def _entry(b: Backup, q: MoodleQuestion, category_id: int) -> El:
    qid = b.question_ids[id(q)]
    question = el("question", {"id": qid}, parent=0, name=q.name, questiontext=q.text.html, questiontextformat=1,
                  generalfeedback=q.general_feedback.html, generalfeedbackformat=1,
                  defaultmark=f"{q.default_mark:.7f}", penalty=f"{q.penalty:.7f}", qtype=q.qtype, length=1,
                  stamp=f"course_builder+{b.course.id}+{q.idnumber}", timecreated=b.now,
                  timemodified=b.now, createdby=2, modifiedby=2)
    question.add(_qtype_plugin(b, q, qid))
    question.add(El("plugin_qbank_comment_question").add(El("comments")),
                 El("plugin_qbank_customfields_question").add(El("customfields")))
    hints = El("question_hints")
    for hint in q.hints:
        hints.add(el("question_hint", {"id": b.next("hint")}, hint=hint.html, hintformat=1,
                     shownumcorrect=NULL, clearwrong=NULL, options=NULL))
    # Restore adds each tag by its rawname (restore_stepslib process_tag); the id only has to be unique.
    tags = El("tags")
    for tag in q.tags:
        tags.add(el("tag", {"id": b.next("tag")}, name=tag.lower(), rawname=tag))
    question.add(hints, tags)
    _question_files(b, q, qid)
    version = el("question_versions", {"id": qid}, version=1, status="ready").add(El("questions").add(question))
    return el("question_bank_entry", {"id": qid}, questioncategoryid=category_id, idnumber=q.idnumber,
              ownerid=2).add(El("question_version").add(version))


def _text_files(b: Backup, component: str, area: str, itemid: int, text: Text) -> None:
    """The files a question's text embeds, in the context that owns the questions (course or bank activity)."""
    files.area(b, b.questions_context.contextid, component, area, itemid,
               [("/", f.name, f.content) for f in text.files])


def _question_files(b: Backup, q: MoodleQuestion, qid: int) -> None:
    """Files of the question's own texts (question text, general feedback) in the question component."""
    for area, t in (("questiontext", q.text), ("generalfeedback", q.general_feedback)):
        if t.files:
            _text_files(b, "question", area, qid, t)
    for area, t in (("correctfeedback", q.correct_feedback), ("partiallycorrectfeedback", q.partial_feedback),
                    ("incorrectfeedback", q.incorrect_feedback)):
        if t.files:
            _text_files(b, "question", area, qid, t)


def _answers(b: Backup, q: MoodleQuestion) -> tuple[El, list[int]]:
    answers = El("answers")
    ids = []
    for a in q.answers:
        aid = b.next("answer")
        ids.append(aid)
        answers.add(el("answer", {"id": aid}, answertext=a.text.html,
                       answerformat=1 if a.format == "html" else 0, fraction=f"{a.fraction:.7f}",
                       feedback=a.feedback.html, feedbackformat=1))
        for area, t in (("answer", a.text), ("answerfeedback", a.feedback)):
            if t.files:
                _text_files(b, "question", area, aid, t)
    return answers, ids


def _combined(q: MoodleQuestion) -> dict:
    return dict(correctfeedback=q.correct_feedback.html, correctfeedbackformat=1,
                partiallycorrectfeedback=q.partial_feedback.html, partiallycorrectfeedbackformat=1,
                incorrectfeedback=q.incorrect_feedback.html, incorrectfeedbackformat=1)


def _qtype_plugin(b: Backup, q: MoodleQuestion, qid: int) -> El:
    wrapper = El(f"plugin_qtype_{q.qtype}_question")
    if q.qtype == "multichoice":
        answers, _ = _answers(b, q)
        wrapper.add(answers, el("multichoice", {"id": b.next("multichoice")}, layout=0, single=int(q.single),
                                shuffleanswers=int(q.shuffle), **_combined(q),
                                answernumbering=q.answer_numbering, shownumcorrect=1, showstandardinstruction=0))
    elif q.qtype == "truefalse":
        tf = [a for a in q.answers]
        answers = El("answers")
        ids = []
        for a, label in zip(tf, ("True", "False")):
            aid = b.next("answer")
            ids.append(aid)
            answers.add(el("answer", {"id": aid}, answertext=label, answerformat=0, fraction=f"{a.fraction:.7f}",
                           feedback=a.feedback.html, feedbackformat=1))
        wrapper.add(answers, el("truefalse", {"id": b.next("truefalse")}, trueanswer=ids[0], falseanswer=ids[1],
                                showstandardinstruction=0))
    elif q.qtype == "shortanswer":
        answers, _ = _answers(b, q)
        wrapper.add(answers, el("shortanswer", {"id": b.next("shortanswer")}, usecase=int(q.use_case)))
    elif q.qtype == "numerical":
        answers, ids = _answers(b, q)
        records = El("numerical_records")
        for a, aid in zip(q.answers, ids):
            records.add(el("numerical_record", {"id": b.next("numerical_record")}, answer=aid,
                           tolerance=_tolerance(a.tolerance)))
        wrapper.add(answers, El("numerical_units"), El("numerical_options").add(
            el("numerical_option", {"id": b.next("numerical_option")}, showunits=3, unitsleft=0,
               unitgradingtype=0, unitpenalty="0.1000000")), records)
    elif q.qtype == "match":
        matches = El("matches")
        for sub in q.subquestions:
            mid = b.next("match")
            matches.add(el("match", {"id": mid}, questiontext=sub.text.html, questiontextformat=1,
                           answertext=sub.answer))
            if sub.text.files:
                _text_files(b, "qtype_match", "subquestion", mid, sub.text)
        wrapper.add(el("matchoptions", {"id": b.next("matchoptions")}, shuffleanswers=int(q.shuffle),
                       **_combined(q), shownumcorrect=1), matches)
    elif q.qtype == "ordering":
        answers, _ = _answers(b, q)
        combined = _combined(q)
        wrapper.add(answers, el("ordering", {"id": b.next("ordering")}, layouttype=0, selecttype=0,
                                selectcount=len(q.answers), gradingtype=0, showgrading=1, numberingstyle="none",
                                correctfeedback=combined["correctfeedback"], correctfeedbackformat=1,
                                incorrectfeedback=combined["incorrectfeedback"], incorrectfeedbackformat=1,
                                partiallycorrectfeedback=combined["partiallycorrectfeedback"],
                                partiallycorrectfeedbackformat=1, shownumcorrect=1))
    elif q.qtype == "essay":
        wrapper.add(el("essay", {"id": b.next("essay")}, responseformat="editor", responserequired=1,
                       responsefieldlines=10, minwordlimit=q.min_words or NULL, maxwordlimit=q.max_words or NULL,
                       attachments=0, attachmentsrequired=0, graderinfo="", graderinfoformat=1,
                       responsetemplate="", responsetemplateformat=1, filetypeslist="", maxbytes=0))
    return wrapper


def _tolerance(value: float | None) -> str:
    return number(value or 0.0)
