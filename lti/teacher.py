"""The teacher's overview of a module placement: every learner's progress, score and grade delivery
(the last score the platform accepted, and when), the results per question, and the change log of the
learners' progress rows (lti/progress.py), all of the placement or one learner's (?learner=<user id>)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .db import Launch, OutboxScore, Progress, ProgressChange
from .progress import trail
from .roles import is_instructor
from .tool import Tool


def routes(tool: Tool) -> list[Route]:
    course, rejected_page = tool.course, tool.rejected_page

    @rejected_page
    async def teacher(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]
        return await run_in_threadpool(teacher_page, launch_id, request.query_params.get("learner") or None)

    def teacher_page(launch_id: str, learner: str | None) -> Response:
        with tool.Session() as session:
            record = tool.instructor_launch(session, launch_id)
            rows = session.scalars(select(Progress).where(Progress.platform_id == record.platform_id,
                                                          Progress.resource_link_id == record.resource_link_id)
                                   .order_by(Progress.user_id)).all()
            names, teachers = {}, set()
            for launch_row in session.scalars(select(Launch).where(
                    Launch.platform_id == record.platform_id, Launch.context_id == record.context_id)):
                if launch_row.name:
                    names[launch_row.user_id] = launch_row.name
                if is_instructor(launch_row.roles):
                    teachers.add(launch_row.user_id)
            # Teachers who open the module to try it leave progress too; they are not learners.
            rows = [row for row in rows if row.user_id not in teachers]
            lineitem = record.ags.get("lineitem")
            deliveries = {}
            if lineitem:
                for out in session.scalars(select(OutboxScore).where(OutboxScore.platform_id == record.platform_id,
                                                                     OutboxScore.lineitem_url == lineitem)
                                           .order_by(OutboxScore.timestamp)):
                    last = deliveries.get(out.user_id, {}).get("delivered")
                    if out.status == "delivered":
                        last = {"score": out.payload.get("scoreGiven"), "at": tool.when(out.delivered_at)}
                    deliveries[out.user_id] = {"status": out.status, "delivered": last,
                                               "error": out.last_error if out.status == "failed" else ""}
            changes = [change_view(change, names) for change in
                       trail(session, record.platform_id, record.resource_link_id, learner, teachers)]
        quiz = course.quiz_for(record.module_id)
        questions = [q.id for q in quiz.questions] if quiz else []
        per_question = {q: {"correct": 0, "answered": 0} for q in questions}
        view_rows = []
        for row in rows:
            results = {}
            for interaction in row.interactions or []:
                if isinstance(interaction, dict) and interaction.get("id") is not None:
                    results[str(interaction["id"])] = str(interaction.get("result") or "neutral")
            for q, result in results.items():
                if q in per_question:
                    per_question[q]["answered"] += 1
                    per_question[q]["correct"] += result == "correct"
            view_rows.append({"user_id": row.user_id, "name": names.get(row.user_id, ""), "progress": row.progress,
                              "completion": row.completion, "success": row.success, "score": row.score,
                              "results": results, "delivery": deliveries.get(row.user_id)})
        module = course.module(record.module_id)
        question_names = {q.id: q.name for q in quiz.questions} if quiz else {}
        return tool.render("teacher.html.j2", rows=view_rows, questions=questions, per_question=per_question,
                           question_names=question_names, changes=changes, learner=learner,
                           learner_name=names.get(learner) or learner,
                           module_title=module.title if module else record.module_id,
                           context_title=record.context_title, launch_id=launch_id)

    def value(name: str, value) -> str:
        """A field's value as the overview shows it elsewhere: percent, translated state, score."""
        if value is None:
            return "–"
        if name == "progress":
            return f"{round(value * 100)} %"
        if name in ("completion", "success"):
            return tool.ui.get(f"lti_{name}_{value}", str(value))
        if name == "score":
            return tool.number(value)
        return str(value)

    def change_view(change: ProgressChange, names: dict[str, str]) -> dict:
        def fields(values: dict) -> list[dict]:
            return [{"name": name, "label": tool.ui.get(f"lti_field_{name}", name),
                     "before": value(name, pair[0]), "after": value(name, pair[1])} for name, pair in values.items()]
        return {"at": tool.when(change.created_at), "user_id": change.user_id,
                "learner": names.get(change.user_id) or change.user_id,
                "actor": names.get(change.actor_id) or change.actor_id, "own": change.actor_id == change.user_id,
                "launch": change.launch_id[:8], "source": tool.ui.get(f"lti_source_{change.source}", change.source),
                "changes": fields(change.changes), "kept": fields(change.kept),
                "gradebook": None if change.gradebook is None else tool.number(change.gradebook)}

    return [Route("/lti/teacher/{launch_id}", teacher)]
