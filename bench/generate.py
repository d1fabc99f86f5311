"""A deterministic data set for benchmarks: users, tags, questions, answers, comments, revisions,
votes, the reputation ledger, the moderation log and the search index.

Every question draws from its own random generator, seeded with (seed, question id), so the rows
do not depend on how the work is split into chunks or processes. Rows are written with COPY and
carry what the services would have written:

- revision 1 for every post; later approved edits (by the author or a moderator) whose content is
  the post's content; some pending suggested edits; rendered HTML with the renderer version;
- comments with their revision 1; score, answer_count, revision_count, last_activity_at and
  accepted answers that match the rows;
- the reputation ledger of every vote and accept (with the daily upvote cap), reversals for what
  deleted posts earned, and users' reputation = max(1, sum of their rows);
- a moderation-log row for every closed or deleted question and every deleted answer.

Tag question counts, stored reputation and the search index are then computed by the production
service functions themselves (tags_recount, reputation_refresh, search_reindex). What is not
simulated: flags, close votes, review queues, and whether a voter had the privilege to vote at the
time (privileges depend on reputation, which the history would have to replay).

Run it through `python -m bench.run` (which creates the database); `generate()` writes into the
database Django is configured for, which must be empty.
"""

import multiprocessing
import random
import signal
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, connections, models, transaction

from accounts.models import ReputationEvent, User
from bench import corpus
from kb import markdown
from kb.models import (
    Answer,
    Comment,
    CommentRevision,
    ModerationAction,
    Question,
    Revision,
    Tag,
    Vote,
)
from kb.permissions import MODERATOR_GROUP
from kb.rules import rule
from kb.services.reputation import reputation_refresh
from kb.services.revisions import tags_recount
from kb.services.search_index import search_reindex

GENERATOR_VERSION = 2  # bump when the generated content changes, so stored data sets regenerate
DEFAULT_SEED = 20250601
END = datetime(2025, 6, 1, tzinfo=UTC)  # fixed, so the same seed gives the same timestamps
SPAN = timedelta(days=730)
MODERATORS = 5
ANSWERS_PER_QUESTION = 3
TAGS_PER_QUESTION = 5
CHUNK_QUESTIONS = 200

APPROVED = Revision.Status.APPROVED.value
PENDING = Revision.Status.PENDING.value
OPEN = Question.Status.OPEN.value
CLOSED = Question.Status.CLOSED.value
DELETED = Question.Status.DELETED.value
Kind = ReputationEvent.Kind
POST_EARNED_KINDS = {
    Kind.QUESTION_UPVOTED.value,
    Kind.ANSWER_UPVOTED.value,
    Kind.DOWNVOTED.value,
    Kind.DOWNVOTE_CAST.value,
    Kind.ANSWER_ACCEPTED.value,
    Kind.ACCEPTED_AN_ANSWER.value,
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "杰", "涛", "明", "超", "霞"]
EDIT_SUMMARIES = [
    "补充公式推导",
    "修正表述",
    "增加代码示例",
    "补充面试追问",
    "调整格式",
    "更新参考",
]


@dataclass(frozen=True)
class Plan:
    questions: int
    users: int = 500
    tags: int = 200
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        if self.questions < 1 or self.users < MODERATORS + 5:
            raise ValueError("Need at least 1 question and 10 users.")
        if not TAGS_PER_QUESTION <= self.tags <= len(corpus.TAG_NAMES):
            raise ValueError(f"tags must be {TAGS_PER_QUESTION}..{len(corpus.TAG_NAMES)}")


@dataclass
class Chunk:
    """Rows for a run of questions. Revision and comment ids are local (1, 2, ...) until
    `_load` shifts them; votes get their ids there too."""

    questions: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)
    revisions: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    comment_revisions: list[dict] = field(default_factory=list)
    votes: list[dict] = field(default_factory=list)
    question_tags: list[dict] = field(default_factory=list)
    moderation: list[dict] = field(default_factory=list)
    # (answer id, answer author, question author, when) for the ledger
    accepts: list[tuple[int, int, int, datetime]] = field(default_factory=list)


def _rng(plan: Plan, *parts: object) -> random.Random:
    return random.Random("/".join(str(part) for part in (plan.seed, *parts)))


def _tag_weights(plan: Plan) -> list[float]:
    """Zipf-like popularity over a seeded shuffle of the tag names (a few big tags, a long tail)."""
    ranks = list(range(plan.tags))
    _rng(plan, "tag-ranks").shuffle(ranks)
    return [1 / (rank + 1) ** 0.8 for rank in ranks]


def _moderator_ids() -> range:
    return range(1, MODERATORS + 1)


def user_rows(plan: Plan) -> list[dict]:
    rng = _rng(plan, "users")
    rows = []
    for user_id in range(1, plan.users + 1):
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
        rows.append(
            {
                "id": user_id,
                "username": f"user{user_id:04d}",
                "email": f"user{user_id:04d}@example.com",
                "password": "!bench",  # "!" marks an unusable password
                "display_name": name if rng.random() < 0.7 else "",
                "date_joined": END - SPAN - timedelta(days=rng.randint(1, 365)),
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "is_system": False,
                "reputation": 1,  # reputation_refresh sets it from the ledger
            }
        )
    return rows


def tag_rows(plan: Plan) -> list[dict]:
    return [
        {
            "id": tag_id,
            "name": name,
            "description": f"{name}：相关面试题的原理、实现与常见追问。",
            "question_count": 0,  # tags_recount sets it from the rows
            "created_at": END - SPAN,
        }
        for tag_id, name in enumerate(corpus.TAG_NAMES[: plan.tags], start=1)
    ]


def _pick_tags(rng: random.Random, weights: list[float]) -> list[int]:
    chosen: list[int] = []
    while len(chosen) < TAGS_PER_QUESTION:
        tag_id = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
        if tag_id not in chosen:
            chosen.append(tag_id)
    return chosen


def _pick_user(rng: random.Random, plan: Plan, *, besides: set[int] = frozenset()) -> int:
    """A user id, skewed so that some members write much more than others."""
    while True:
        user_id = int(plan.users * rng.random() ** 2) + 1
        if user_id not in besides:
            return user_id


def _later(rng: random.Random, moment: datetime, *, max_hours: float) -> datetime:
    return min(moment + timedelta(hours=rng.uniform(0.05, max_hours)), END)


def _post_keys(key: str, post_id: int) -> dict:
    return {
        "question_id": post_id if key == "question" else None,
        "answer_id": post_id if key == "answer" else None,
    }


class _PostBuilder:
    """Builds one post's revisions, comments and votes into a chunk, as the services would."""

    def __init__(self, plan: Plan, chunk: Chunk):
        self.plan = plan
        self.chunk = chunk
        self.render_cache: dict[str, str] = {}

    def render(self, body: str) -> str:
        html = self.render_cache.get(body)
        if html is None:
            html = self.render_cache[body] = markdown.render(body)
        return html

    def revisions(
        self,
        rng: random.Random,
        *,
        key: str,
        post_id: int,
        author_id: int,
        created_at: datetime,
        title: str,
        body: str,
        tags: list[str],
        approved_weights: list[int],
        pending_chance: float,
    ) -> list[dict]:
        """Revision 1, maybe approved edits by the author or a moderator, maybe a pending edit
        suggested by someone else. Returns the rows; the newest approved one is the content."""
        rows: list[dict] = []
        approved = rng.choices([1, 2, 3], weights=approved_weights)[0]
        moment = created_at
        for number in range(1, approved + 1):
            editor = author_id
            if number > 1:
                moment = _later(rng, moment, max_hours=24 * 60)
                if rng.random() < 0.3:
                    editor = rng.choice(_moderator_ids())
                body = corpus.edited_body(body, rng)
                if key == "question" and rng.random() < 0.2:
                    tags = self._retag(rng, tags)
            rows.append(
                self._revision(rng, key, post_id, number, title, body, tags, editor, moment,
                               status=APPROVED)
            )  # fmt: skip
        if rng.random() < pending_chance:
            suggester = _pick_user(rng, self.plan, besides={author_id, *_moderator_ids()})
            moment = _later(rng, moment, max_hours=24 * 30)
            rows.append(
                self._revision(rng, key, post_id, approved + 1, title,
                               corpus.edited_body(body, rng), tags, suggester, moment,
                               status=PENDING)
            )  # fmt: skip
        return rows

    def _retag(self, rng: random.Random, tags: list[str]) -> list[str]:
        names = corpus.TAG_NAMES[: self.plan.tags]
        changed = list(tags)
        changed[rng.randrange(len(changed))] = rng.choice([n for n in names if n not in tags])
        return changed

    def _revision(self, rng, key, post_id, number, title, body, tags, author_id, moment, *,
                  status) -> dict:  # fmt: skip
        revisions = self.chunk.revisions
        revisions.append(
            {
                "id": len(revisions) + 1,
                **_post_keys(key, post_id),
                "number": number,
                "title": title if key == "question" else "",
                "body": body,
                "tags": list(tags) if key == "question" else [],
                "author_id": author_id,
                "summary": rng.choice(EDIT_SUMMARIES) if number > 1 else "",
                # The previous row is this post's newest revision: the edit's base.
                "base_revision_id": len(revisions) if number > 1 else None,
                "status": status,
                "created_at": moment,
            }
        )
        return revisions[-1]

    def comments(self, rng: random.Random, *, key: str, post_id: int,
                 created_at: datetime) -> list[datetime]:  # fmt: skip
        """0-3 comments with their revision 1; returns when they were written."""
        count = rng.choices([0, 1, 2, 3], weights=[70, 18, 8, 4])[0]
        moments = []
        for _ in range(count):
            body = "".join(corpus.fill(rng.choice(corpus.SENTENCES), rng)
                            for _ in range(rng.randint(1, 2)))  # fmt: skip
            author_id = _pick_user(rng, self.plan)
            moment = _later(rng, created_at, max_hours=24 * 20)
            comment_id = len(self.chunk.comments) + 1
            self.chunk.comments.append(
                {
                    "id": comment_id,
                    **_post_keys(key, post_id),
                    "author_id": author_id,
                    "body": body,
                    "body_html": markdown.render_comment(body),
                    "renderer_version": markdown.RENDERER_VERSION,
                    "is_deleted": False,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            self.chunk.comment_revisions.append(
                {"comment_id": comment_id, "number": 1, "body": body, "author_id": author_id,
                 "created_at": moment}
            )  # fmt: skip
            moments.append(moment)
        return moments

    def votes(self, rng: random.Random, *, key: str, post_id: int, author_id: int,
              created_at: datetime, mean: float, up_chance: float) -> int:  # fmt: skip
        """Votes from distinct users other than the author; returns the score."""
        count = min(int(rng.expovariate(1 / mean)), self.plan.users - 1)
        voters = [v for v in rng.sample(range(1, self.plan.users + 1), count + 1) if v != author_id]
        score = 0
        for voter in voters[:count]:
            value = 1 if rng.random() < up_chance else -1
            score += value
            moment = _later(rng, created_at, max_hours=24 * 90)
            self.chunk.votes.append(
                {"user_id": voter, **_post_keys(key, post_id), "value": value,
                 "created_at": moment, "updated_at": moment}
            )  # fmt: skip
        return score

    def log(self, *, action: str, key: str, post_id: int, question_id: int, author_id: int,
            moment: datetime, details: dict) -> None:  # fmt: skip
        """A moderation-log row, as kb.services.moderation.moderation_log writes it."""
        self.chunk.moderation.append(
            {
                "actor_id": (post_id % MODERATORS) + 1,
                "action": action,
                "question_id": question_id,
                "answer_id": post_id if key == "answer" else None,
                "comment_id": None,
                "target_user_id": author_id,
                "reason": "",
                "is_public": True,
                "details": details,
                "created_at": moment,
            }
        )


def _newest_approved(revisions: list[dict]) -> dict:
    return [r for r in revisions if r["status"] == APPROVED][-1]


def build_chunk(plan: Plan, first: int, last: int) -> Chunk:
    """Rows for questions first..last (inclusive) with their answers, revisions and votes."""
    chunk = Chunk()
    builder = _PostBuilder(plan, chunk)
    weights = _tag_weights(plan)
    tag_names = corpus.TAG_NAMES[: plan.tags]
    tag_ids = {name: tag_id for tag_id, name in enumerate(tag_names, start=1)}
    step = SPAN / plan.questions
    for question_id in range(first, last + 1):
        rng = _rng(plan, "question", question_id)
        author_id = _pick_user(rng, plan)
        created_at = END - SPAN + step * (question_id - 1) + step * rng.random() * 0.9
        tags = [tag_names[i - 1] for i in _pick_tags(rng, weights)]
        revisions = builder.revisions(
            rng, key="question", post_id=question_id, author_id=author_id, created_at=created_at,
            title=corpus.title(rng), body=corpus.body(rng), tags=tags,
            approved_weights=[80, 14, 6], pending_chance=0.03,
        )  # fmt: skip
        current = _newest_approved(revisions)
        activity = [r["created_at"] for r in revisions if r["status"] == APPROVED]
        activity += builder.comments(rng, key="question", post_id=question_id,
                                     created_at=created_at)  # fmt: skip
        roll = rng.random()
        status, close_reason, duplicate_of = OPEN, "", None
        if roll < 0.005:
            status = DELETED
        elif roll < 0.025:
            status = CLOSED
            close_reason = rng.choice(list(Question.CloseReason.values))
            if close_reason == Question.CloseReason.DUPLICATE and question_id > 1:
                duplicate_of = rng.randint(max(1, question_id - 500), question_id - 1)
            elif close_reason == Question.CloseReason.DUPLICATE:
                close_reason = Question.CloseReason.NEEDS_DETAILS.value
        answers = []
        answerers: set[int] = {author_id}
        for index in range(ANSWERS_PER_QUESTION):
            answer_id = (question_id - 1) * ANSWERS_PER_QUESTION + index + 1
            answerer = _pick_user(rng, plan, besides=answerers)
            answerers.add(answerer)
            answered_at = _later(rng, created_at, max_hours=24 * 30)
            answer_revisions = builder.revisions(
                rng, key="answer", post_id=answer_id, author_id=answerer, created_at=answered_at,
                title="", body=corpus.body(rng, opening=True), tags=[],
                approved_weights=[85, 11, 4], pending_chance=0.02,
            )  # fmt: skip
            newest = _newest_approved(answer_revisions)
            activity += [r["created_at"] for r in answer_revisions if r["status"] == APPROVED]
            activity += builder.comments(rng, key="answer", post_id=answer_id,
                                         created_at=answered_at)  # fmt: skip
            score = builder.votes(rng, key="answer", post_id=answer_id, author_id=answerer,
                                  created_at=answered_at, mean=3, up_chance=0.85)  # fmt: skip
            is_deleted = status != DELETED and rng.random() < 0.01
            if is_deleted:
                builder.log(action="post_delete", key="answer", post_id=answer_id,
                            question_id=question_id, author_id=answerer, moment=END,
                            details={"spam": False})  # fmt: skip
            answers.append(
                {
                    "id": answer_id,
                    "question_id": question_id,
                    "author_id": answerer,
                    "body": newest["body"],
                    "body_html": builder.render(newest["body"]),
                    "renderer_version": markdown.RENDERER_VERSION,
                    "score": score,
                    "is_deleted": is_deleted,
                    "revision_count": newest["number"],
                    "created_at": answered_at,
                    "updated_at": newest["created_at"],
                }
            )
        live_answers = [a for a in answers if not a["is_deleted"]]
        accepted = None
        if status != DELETED and live_answers and rng.random() < 0.35:
            best = max(live_answers, key=lambda a: (a["score"], -a["id"]))
            accepted = best if rng.random() < 0.7 else rng.choice(live_answers)
            accepted_at = _later(rng, accepted["created_at"], max_hours=24 * 10)
            chunk.accepts.append((accepted["id"], accepted["author_id"], author_id, accepted_at))
        score = builder.votes(rng, key="question", post_id=question_id, author_id=author_id,
                              created_at=created_at, mean=5, up_chance=0.88)  # fmt: skip
        if status == CLOSED:
            builder.log(action="question_close", key="question", post_id=question_id,
                        question_id=question_id, author_id=author_id,
                        moment=_later(rng, created_at, max_hours=24 * 7),
                        details={"reason": close_reason, "duplicate_of": duplicate_of,
                                 "voters": []})  # fmt: skip
        elif status == DELETED:
            builder.log(action="post_delete", key="question", post_id=question_id,
                        question_id=question_id, author_id=author_id, moment=END,
                        details={"spam": False})  # fmt: skip
        chunk.questions.append(
            {
                "id": question_id,
                "title": current["title"],
                "body": current["body"],
                "body_html": builder.render(current["body"]),
                "renderer_version": markdown.RENDERER_VERSION,
                "author_id": author_id,
                "status": status,
                "close_reason": close_reason,
                "duplicate_of_id": duplicate_of,
                "protected": False,
                "accepted_answer_id": accepted["id"] if accepted else None,
                "score": score,
                "answer_count": len(live_answers),
                "view_count": int(rng.lognormvariate(4.5, 1.0)),
                "revision_count": current["number"],
                "created_at": created_at,
                "updated_at": current["created_at"],
                "last_activity_at": max(activity),
            }
        )
        chunk.question_tags += [
            {"question_id": question_id, "tag_id": tag_ids[name]} for name in current["tags"]
        ]
        chunk.answers += answers
    return chunk


def _build_chunk_star(arguments: tuple[Plan, int, int]) -> Chunk:
    return build_chunk(*arguments)


def chunk_bounds(plan: Plan) -> list[tuple[Plan, int, int]]:
    return [(plan, first, min(first + CHUNK_QUESTIONS - 1, plan.questions))
            for first in range(1, plan.questions + 1, CHUNK_QUESTIONS)]  # fmt: skip


class _Ledger:
    """The reputation rows the votes and accepts of all chunks cause, written in time order as
    kb.services.reputation would have: the daily upvote cap applies per author and calendar day in
    TIME_ZONE; what a deleted post earned is reversed when it was deleted (END)."""

    def __init__(self):
        # (when, order, kind of post, post id, author, voter or accepter, value or None)
        self.facts: list[tuple] = []
        self.deleted_questions: set[int] = set()
        self.deleted_answers: set[int] = set()
        self.answer_question: dict[int, int] = {}

    def add(self, chunk: Chunk) -> None:
        authors = {("question", q["id"]): q["author_id"] for q in chunk.questions}
        authors |= {("answer", a["id"]): a["author_id"] for a in chunk.answers}
        self.deleted_questions |= {q["id"] for q in chunk.questions if q["status"] == DELETED}
        self.deleted_answers |= {a["id"] for a in chunk.answers if a["is_deleted"]}
        self.answer_question |= {a["id"]: a["question_id"] for a in chunk.answers}
        for vote in chunk.votes:
            key = "question" if vote["question_id"] else "answer"
            post_id = vote["question_id"] or vote["answer_id"]
            self.facts.append((vote["created_at"], vote["id"], key, post_id,
                               authors[key, post_id], vote["user_id"], vote["value"]))  # fmt: skip
        for answer_id, answer_author, question_author, when in chunk.accepts:
            self.facts.append((when, 0, "answer", answer_id, answer_author, question_author, None))

    def rows(self) -> list[dict]:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        cap = rule("REPUTATION_DAILY_CAP")
        earned_on: dict[tuple[int, object], int] = defaultdict(int)
        rows: list[dict] = []

        def event(user_id, kind, amount, key, post_id, vote_id, when) -> None:
            rows.append({"id": len(rows) + 1, "user_id": user_id, "kind": kind, "amount": amount,
                         **_post_keys(key, post_id), "vote_id": vote_id, "reverses_id": None,
                         "reason": "", "created_at": when})  # fmt: skip

        for when, vote_id, key, post_id, author, actor, value in sorted(
            self.facts, key=lambda fact: (fact[0], fact[1], fact[3])
        ):
            if value is None:  # an accept: +15 to the answerer, +2 to the asker
                event(author, Kind.ANSWER_ACCEPTED.value, rule("REPUTATION_ANSWER_ACCEPTED"),
                      key, post_id, None, when)  # fmt: skip
                event(actor, Kind.ACCEPTED_AN_ANSWER.value, rule("REPUTATION_ACCEPTED_AN_ANSWER"),
                      key, post_id, None, when)  # fmt: skip
            elif value > 0:
                kind, setting = (
                    (Kind.QUESTION_UPVOTED.value, "REPUTATION_QUESTION_UPVOTED")
                    if key == "question"
                    else (Kind.ANSWER_UPVOTED.value, "REPUTATION_ANSWER_UPVOTED")
                )
                day = (author, when.astimezone(zone).date())
                amount = max(0, min(rule(setting), cap - earned_on[day]))
                earned_on[day] += amount
                event(author, kind, amount, key, post_id, vote_id, when)
            else:
                event(author, Kind.DOWNVOTED.value, rule("REPUTATION_DOWNVOTED"), key, post_id,
                      vote_id, when)  # fmt: skip
                if key == "answer":
                    event(actor, Kind.DOWNVOTE_CAST.value, rule("REPUTATION_DOWNVOTE_CAST"),
                          key, post_id, vote_id, when)  # fmt: skip
        for original in list(rows):
            if original["kind"] in POST_EARNED_KINDS and self._deleted(original):
                rows.append({**original, "id": len(rows) + 1, "kind": Kind.REVERSAL.value,
                             "amount": -original["amount"], "reverses_id": original["id"],
                             "created_at": END})  # fmt: skip
        return rows

    def _deleted(self, event: dict) -> bool:
        if event["question_id"] is not None:
            return event["question_id"] in self.deleted_questions
        answer_id = event["answer_id"]
        return (
            answer_id in self.deleted_answers
            or self.answer_question[answer_id] in self.deleted_questions
        )


def _copy(model: type[models.Model], rows: list[dict]) -> None:
    """COPY rows (dicts keyed by attname) into the model's table. A column the rows leave out
    takes the field's default (a primary key: the identity sequence); a required column without
    a default is an error, not a silent NULL."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0] or not f.primary_key]
    defaults = {}
    for model_field in fields:
        if model_field.attname not in rows[0]:
            default = model_field.get_default()
            if default is None and not model_field.null:
                raise ValueError(
                    f"bench.generate does not fill {model._meta.db_table}.{model_field.column}"
                )
            defaults[model_field.attname] = default
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    f.get_db_prep_save(
                        row[f.attname] if f.attname in row else defaults[f.attname], connection
                    )
                    for f in fields
                ]
            )


def generate(
    plan: Plan, *, processes: int = 1, progress=None, search_index: bool = True
) -> dict[str, int]:
    """Write the data set into the (empty) database Django points at; returns row counts.

    With processes > 1, chunks are built by forked workers while this process loads them, and
    the search index is built the same way. search_index=False leaves the index to the caller
    (bench.search builds and times its own)."""
    bounds = chunk_bounds(plan)
    pool = None
    if processes > 1 and len(bounds) > 1:
        if connection.in_atomic_block:
            raise RuntimeError("Worker processes cannot be forked inside a transaction.")
        connections.close_all()  # the workers must not inherit an open connection
        pool = multiprocessing.get_context("fork").Pool(processes, initializer=_worker_signals)
    try:
        built = pool.imap(_build_chunk_star, bounds) if pool else map(_build_chunk_star, bounds)
        counts = _load(plan, built, progress)
    except BaseException:
        if pool:
            pool.terminate()
        raise
    if pool:
        pool.close()
        pool.join()
    if not search_index:
        return counts
    if progress:
        progress({**counts, "stage": "search index"})
    counts["search documents"] = search_reindex(processes=processes)
    return counts


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the parent (which terminates the pool) and die on SIGTERM, whatever
    handlers the parent had installed before forking."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _load(plan: Plan, built: Iterator[Chunk], progress) -> dict[str, int]:
    counts = dict.fromkeys(
        ["questions", "answers", "comments", "revisions", "votes", "reputation events",
         "moderation actions"], 0
    )  # fmt: skip
    counts |= {"users": plan.users, "tags": plan.tags}
    ledger = _Ledger()
    with transaction.atomic():
        if Question.objects.exists() or User.objects.exists():
            raise RuntimeError("The database already has users or questions; use an empty one.")
        _copy(User, user_rows(plan))
        moderators, _created = Group.objects.get_or_create(name=MODERATOR_GROUP)
        _copy(
            User.groups.through,
            [{"user_id": user_id, "group_id": moderators.pk} for user_id in _moderator_ids()],
        )
        _copy(Tag, tag_rows(plan))
        offsets = {"revisions": 0, "comments": 0, "votes": 0}
        for chunk in built:
            _shift_ids(chunk, offsets)
            # Questions point at answers (accepted) and answers at questions: insert the
            # questions without accepted_answer, then the answers, then set it.
            _copy(Question, [{**q, "accepted_answer_id": None} for q in chunk.questions])
            _copy(Answer, chunk.answers)
            _copy(Question.tags.through, chunk.question_tags)
            _copy(Revision, chunk.revisions)
            _copy(Comment, chunk.comments)
            _copy(CommentRevision, chunk.comment_revisions)
            _copy(Vote, chunk.votes)
            _copy(ModerationAction, chunk.moderation)
            accepted = [(q["accepted_answer_id"], q["id"]) for q in chunk.questions
                        if q["accepted_answer_id"] is not None]  # fmt: skip
            if accepted:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE kb_question SET accepted_answer_id = %s WHERE id = %s", accepted
                    )
            ledger.add(chunk)
            for name in ("questions", "answers", "comments", "revisions", "votes"):
                counts[name] += len(getattr(chunk, name))
            counts["moderation actions"] += len(chunk.moderation)
            if progress:
                progress(counts)
        events = ledger.rows()
        _copy(ReputationEvent, events)
        counts["reputation events"] = len(events)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(),
                [User, Tag, Question, Answer, Revision, Comment, CommentRevision, Vote,
                 ModerationAction, ReputationEvent, Question.tags.through, User.groups.through],
            ):  # fmt: skip
                cursor.execute(statement)
        tags_recount(tag_ids=set(Tag.objects.values_list("pk", flat=True)))
        reputation_refresh(user_ids=range(1, plan.users + 1))
    return counts


def _shift_ids(chunk: Chunk, offsets: dict[str, int]) -> None:
    """Turn a chunk's local revision and comment ids into global ones; number its votes."""
    for revision in chunk.revisions:
        revision["id"] += offsets["revisions"]
        if revision["base_revision_id"] is not None:
            revision["base_revision_id"] += offsets["revisions"]
    for comment in chunk.comments:
        comment["id"] += offsets["comments"]
    for comment_revision in chunk.comment_revisions:
        comment_revision["comment_id"] += offsets["comments"]
    for number, vote in enumerate(chunk.votes, start=offsets["votes"] + 1):
        vote["id"] = number
    offsets["revisions"] += len(chunk.revisions)
    offsets["comments"] += len(chunk.comments)
    offsets["votes"] += len(chunk.votes)
