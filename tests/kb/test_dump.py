import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken, ReputationEvent, User
from kb.dump import DUMPED_MODELS, RECORD_TYPES, database_contents, dump_lines
from kb.interview import FollowUp, Interview
from kb.models import (
    Answer,
    ArticleImport,
    CloseVote,
    Flag,
    ModerationAction,
    Question,
    ReviewVote,
    Revision,
    Tag,
    TagAlias,
    Vote,
)
from kb.services.answers import answer_create
from kb.services.comments import comment_create, comment_edit
from kb.services.questions import question_create
from kb.services.revisions import revision_append
from kb.services.starter import system_user_get_or_create
from kb.services.tags import tag_upsert
from notifications.models import (
    Bookmark,
    Notification,
    NotificationSettings,
    QuestionFollow,
    TagPreference,
)
from practice.models import PracticeCard, PracticeReview
from tests.factories import UserFactory, moderator_create, question_make

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The dump endpoint is throttled per hour; start every test with an empty count."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def populated():
    """A small site with a row in every table a backup carries, made through the services where
    they exist (tests/kb/test_restore_drill.py restores it into a new database).

    Comments, votes, flags, moderation records and reputation events have no service yet, so
    they are rows written with the ORM, the way such a service would write them."""
    author = UserFactory(username="alice", display_name="爱丽丝", bio="做 NLP 的")
    moderator = moderator_create(username="mod")
    reader = UserFactory(username="bob")
    system_user_get_or_create()
    ApiToken.objects.create(user=author, name="cli", key_hash=ApiToken.hash_key("k"), prefix="k")
    tag_upsert(name="normalization", description="归一化", aliases=["层归一化", "LayerNorm"])

    question = question_create(
        actor=author,
        title="RMSNorm 和 LayerNorm 有什么区别?",
        body="为什么 LLaMA 用 RMSNorm?",
        tags=["normalization", "llm"],
    )
    with transaction.atomic():
        locked = Question.objects.select_for_update().get(pk=question.pk)
        revision_append(
            post=locked,
            author=moderator,
            title="RMSNorm 与 LayerNorm 的区别是什么?",
            body="为什么 LLaMA 用 RMSNorm? 公式 $y = x / \\mathrm{RMS}(x)$",
            tags=["normalization", "llm", "llama"],
            interview=Interview(
                difficulty="basic",
                short_answer="RMSNorm 只做缩放,不减均值。",
                key_points=("不减均值", "少一次归约,更快"),
                common_mistakes=("以为 RMSNorm 也有偏置 β",),
                follow_ups=(FollowUp("Pre-LN 和 Post-LN 的区别?"), FollowUp("自引用", question.pk)),
            ),
            summary="补充公式",
            base_revision=question.revisions.get(number=1),
        )
    answer = answer_create(actor=reader, question=question, body="去掉了均值中心化, 更快。")
    with transaction.atomic():
        locked_answer = Answer.objects.select_for_update().get(pk=answer.pk)
        revision_append(
            post=locked_answer, author=author, body="建议的修改", status=Revision.Status.PENDING
        )
    hidden_answer = answer_create(actor=author, question=question, body="已删除的回答")
    Answer.objects.filter(pk=hidden_answer.pk).update(is_deleted=True)
    # duplicate_of points forward, at a question with a higher id (deleted, so not public).
    duplicate = question_make(author=reader, title="LayerNorm 和 RMSNorm 的差别?", tags=["llm"])
    deleted = question_make(author=reader, title="被删除的问题: 什么是注意力?", tags=["llm"])
    Question.objects.filter(pk=deleted.pk).update(status=Question.Status.DELETED)
    Question.objects.filter(pk=duplicate.pk).update(
        status=Question.Status.CLOSED, close_reason="duplicate", duplicate_of=deleted
    )
    Question.objects.filter(pk=question.pk).update(accepted_answer=answer)

    comment = comment_create(actor=reader, post=question, body="好问题")
    comment_edit(actor=reader, comment=comment, body="好问题，值得收藏")
    vote = Vote.objects.create(user=reader, question=question, value=Vote.Value.UP)
    Flag.objects.create(user=reader, answer=hidden_answer, reason=Flag.Reason.SPAM, text="广告")
    ModerationAction.objects.create(
        actor=moderator,
        action="answer_delete",
        answer=hidden_answer,
        reason="spam",
        is_public=False,
        details={"flag_count": 1, "备注": ["广告"]},
    )
    ModerationAction.objects.create(
        actor=moderator, action="comment_review", comment=comment, reason="ok", is_public=True
    )
    ModerationAction.objects.create(
        actor=moderator, action="user_warn", target_user=reader, reason="请礼貌", is_public=False
    )
    imported = answer_create(actor=moderator, question=question, body="导入的回答：两者等价。")
    provenance = ArticleImport.objects.create(
        actor=moderator,
        source_title="面经合集",
        source_url="https://blog.example.com/1",
        license="CC BY-SA 4.0",
        content_hash="0" * 64,
        answer_ids=[imported.pk],
    )
    Answer.objects.filter(pk=imported.pk).update(
        verification="unverified", imported_from=provenance
    )
    event = ReputationEvent.objects.create(
        user=author, kind="question_upvoted", amount=10, question=question, vote=vote
    )
    ReputationEvent.objects.create(
        user=author, kind="reversal", amount=-10, question=question, reverses=event
    )
    # What a restore needs beyond the content (docs/dump-format.md, "Restore records").
    pending = Revision.objects.get(status=Revision.Status.PENDING)
    ReviewVote.objects.create(revision=pending, reviewer=reader, decision="reject", reason="不对")
    CloseVote.objects.create(
        question=duplicate, user=author, kind="close", reason="duplicate",
        duplicate_of=question,
    )  # fmt: skip
    CloseVote.objects.create(
        question=question, user=reader, kind="close", reason="off_topic", is_active=False
    )
    Answer.objects.filter(pk=hidden_answer.pk).update(hidden_by_flags=True)
    QuestionFollow.objects.get_or_create(user=reader, question=question)
    QuestionFollow.objects.create(user=author, question=duplicate, active=False)
    Bookmark.objects.create(user=reader, question=question)
    TagPreference.objects.create(user=reader, tag=Tag.objects.get(name="llm"), kind="watched")
    NotificationSettings.objects.update_or_create(user=reader, defaults={"email_mode": "daily"})
    Notification.objects.create(
        recipient=author, actor=reader, kind="answer", question=question,
        answer=answer, read_at=timezone.now(),
    )  # fmt: skip
    card = PracticeCard.objects.create(
        user=reader, question=question, state=2, step=None, stability=3.25, difficulty=5.5,
        due=timezone.now() + timedelta(days=3), last_review=timezone.now(), review_count=1,
    )  # fmt: skip
    PracticeReview.objects.create(card=card, grade=3, state_before=1, reviewed_at=timezone.now())
    type(reader).objects.filter(pk=reader.pk).update(practice_due_at=card.due)
    return {"question": question, "answer": answer, "hidden_answer": hidden_answer,
            "duplicate": duplicate, "deleted": deleted, "author": author}  # fmt: skip


def export(path, *args) -> list[str]:
    call_command("export_kb", str(path), *args, stdout=io.StringIO())
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines[1:]]


def wipe_database() -> None:
    """Delete every dumped row. TRUNCATE does not fire the revisions' row trigger; the deferred
    foreign-key checks of this test's transaction must run before it (SET CONSTRAINTS)."""
    tables = ", ".join(model._meta.db_table for model in DUMPED_MODELS)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {tables} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def import_file(path) -> None:
    call_command("import_kb", str(path), stdout=io.StringIO())


def test_export_import_export_gives_the_same_file(populated, tmp_path):
    first = export(tmp_path / "first.jsonl")
    assert {r["type"] for r in records(first)} == {t.name for t in RECORD_TYPES}
    wipe_database()
    assert not User.objects.exists() and not Revision.objects.exists()

    import_file(tmp_path / "first.jsonl")
    second = export(tmp_path / "second.jsonl")

    assert second[1:] == first[1:]
    assert json.loads(second[0])["exported_at"] >= json.loads(first[0])["exported_at"]


def test_interview_fields_survive_the_round_trip(populated, tmp_path):
    question = populated["question"]
    lines = export(tmp_path / "dump.jsonl")
    (record,) = [r for r in records(lines) if r["type"] == "question" and r["id"] == question.pk]
    assert record["difficulty"] == "basic"
    assert record["key_points"] == ["不减均值", "少一次归约,更快"]
    assert record["follow_ups"] == [
        {"text": "Pre-LN 和 Post-LN 的区别?", "question_id": None},
        {"text": "自引用", "question_id": question.pk},
    ]
    wipe_database()
    import_file(tmp_path / "dump.jsonl")
    imported = Question.objects.get(pk=question.pk)
    assert imported.common_mistakes == ["以为 RMSNorm 也有偏置 β"]
    assert imported.revisions.get(number=2).short_answer == "RMSNorm 只做缩放,不减均值。"
    assert imported.revisions.get(number=1).key_points == []


def test_a_dump_without_interview_fields_imports_with_them_empty(populated, tmp_path):
    names = ("difficulty", "short_answer", "key_points", "common_mistakes", "follow_ups")
    lines = export(tmp_path / "dump.jsonl")
    older = [lines[0]]
    for line in lines[1:]:
        record = json.loads(line)
        if record["type"] in ("question", "revision"):
            for name in names:
                record.pop(name)
        older.append(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    (tmp_path / "older.jsonl").write_text("".join(older), encoding="utf-8")
    wipe_database()
    import_file(tmp_path / "older.jsonl")
    question = Question.objects.get(pk=populated["question"].pk)
    assert (question.difficulty, question.key_points, question.follow_ups) == ("", [], [])


def test_a_dump_written_before_imports_existed_still_loads(populated, tmp_path):
    """Answers without verification and provenance fields (and no article_import records) load
    as verified answers without provenance."""
    lines = export(tmp_path / "new.jsonl")
    old = [lines[0]]
    for line in lines[1:]:
        record = json.loads(line)
        if record["type"] == "article_import":
            continue
        if record["type"] == "answer":
            for key in ("verification", "imported_from_id", "verified_by_id", "verified_at"):
                del record[key]
        old.append(json.dumps(record, ensure_ascii=False) + "\n")
    (tmp_path / "old.jsonl").write_text("".join(old), encoding="utf-8")
    wipe_database()
    import_file(tmp_path / "old.jsonl")
    assert set(Answer.objects.values_list("verification", flat=True)) == {"verified"}
    assert not Answer.objects.filter(imported_from__isnull=False).exists()


def test_import_keeps_ids_timestamps_and_relations(populated, tmp_path):
    question = populated["question"]
    revisions = list(Revision.objects.order_by("pk").values_list("pk", "created_at", "number"))
    created_at = Question.objects.get(pk=question.pk).created_at
    export(tmp_path / "dump.jsonl")
    wipe_database()
    import_file(tmp_path / "dump.jsonl")

    imported = Question.objects.get(pk=question.pk)
    assert imported.created_at == created_at
    assert imported.accepted_answer_id == populated["answer"].pk
    assert Question.objects.get(pk=populated["duplicate"].pk).duplicate_of_id == (
        populated["deleted"].pk
    )
    assert sorted(imported.tags.values_list("name", flat=True)) == ["llama", "llm", "normalization"]
    assert set(TagAlias.objects.values_list("name", flat=True)) == {"层归一化", "LayerNorm"}
    assert User.objects.get(username="mod").groups.filter(name="moderators").exists()
    assert list(Revision.objects.order_by("pk").values_list("pk", "created_at", "number")) == (
        revisions
    )
    assert Revision.objects.get(question=question, number=2).base_revision.number == 1


def test_import_resets_id_sequences(populated, tmp_path):
    export(tmp_path / "dump.jsonl")
    highest = Question.objects.order_by("-pk").first().pk
    wipe_database()
    import_file(tmp_path / "dump.jsonl")

    newer = question_make(author=User.objects.get(username="bob"), tags=["llm"])
    assert newer.pk > highest
    assert newer.revisions.get().pk > Revision.objects.exclude(question=newer).order_by("-pk")[0].pk


def test_export_leaves_out_password_hashes_and_import_makes_them_unusable(populated, tmp_path):
    lines = export(tmp_path / "dump.jsonl")
    users = [r for r in records(lines) if r["type"] == "user"]
    assert users and all("password" not in user for user in users)
    assert json.loads(lines[0])["with_credentials"] is False
    wipe_database()
    import_file(tmp_path / "dump.jsonl")

    alice = User.objects.get(username="alice")
    assert not alice.has_usable_password()
    assert not alice.check_password(PASSWORD)


def test_export_with_credentials_keeps_password_hashes(populated, tmp_path):
    hashes = dict(User.objects.values_list("username", "password"))
    lines = export(tmp_path / "dump.jsonl", "--with-credentials")
    users = [r for r in records(lines) if r["type"] == "user"]
    assert {user["username"]: user["password"] for user in users} == hashes
    wipe_database()
    import_file(tmp_path / "dump.jsonl")

    assert User.objects.get(username="alice").check_password(PASSWORD)
    assert export(tmp_path / "again.jsonl", "--with-credentials")[1:] == lines[1:]


def test_export_holds_no_tokens_or_sessions(populated, tmp_path):
    text = "".join(export(tmp_path / "dump.jsonl", "--with-credentials"))
    assert ApiToken.hash_key("k") not in text
    assert '"key_hash"' not in text and '"session' not in text


def test_header_names_format_version_and_licence(populated, tmp_path):
    header = json.loads(export(tmp_path / "dump.jsonl", "--site-url", "https://mj.test/")[0])
    assert (header["type"], header["format"], header["version"]) == ("header", "mianjing-dump", 1)
    assert header["licence"] == "CC BY-SA 4.0"
    assert header["licence_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert header["attribution"]["site_url"] == "https://mj.test/"
    assert "author" in header["attribution"]["how_to_attribute"]
    assert header["exported_at"].endswith("Z")


def test_records_come_in_dependency_order_sorted_by_id_with_sorted_keys(populated, tmp_path):
    lines = export(tmp_path / "dump.jsonl")
    order = [t.name for t in RECORD_TYPES]
    # notification_settings is keyed by its member (user_id), the others by id
    keys = [(order.index(r["type"]), r.get("id", r.get("user_id"))) for r in records(lines)]
    assert keys == sorted(keys)
    for line in lines:
        record = json.loads(line)
        assert list(record) == sorted(record)
        assert line == json.dumps(record, ensure_ascii=False, sort_keys=True,
                                  separators=(",", ":")) + "\n"  # fmt: skip


# --- Refusals: exit code 2, nothing written -------------------------------------------------


def _first(lines, kind) -> int:
    """Index in `lines` of the first record of a type (line number = index + 1)."""
    return next(i for i, line in enumerate(lines) if json.loads(line)["type"] == kind)


def _edit(lines, kind, change) -> tuple[list[str], int]:
    index = _first(lines, kind)
    record = json.loads(lines[index])
    change(record)
    lines[index] = json.dumps(record, ensure_ascii=False) + "\n"
    return lines, index + 1


def _header(change):
    def edit(lines):
        header = json.loads(lines[0])
        change(header)
        lines[0] = json.dumps(header) + "\n"
        return lines, 1

    return edit


def _replace_line(kind, text):
    def edit(lines):
        index = _first(lines, kind)
        lines[index] = text
        return lines, index + 1

    return edit


def _move_first_user_to_end(lines):
    index = _first(lines, "user")
    lines.append(lines.pop(index))
    return lines, len(lines)


BAD_DUMPS = {
    "bad json": (_replace_line("question", '{"type": "question", "id": 1,\n'), "not valid JSON"),
    "not an object": (_replace_line("tag", "[1, 2]\n"), "must be a JSON object"),
    "empty line": (_replace_line("answer", "\n"), "empty line"),
    "unknown version": (_header(lambda h: h.update(version=2)), "unsupported version 2"),
    "unknown format": (_header(lambda h: h.update(format="stackexchange")), "not a mianjing"),
    "public dump": (_header(lambda h: h.update(scope="public")), "only a full dump"),
    "no header": (lambda lines: (lines[1:], 1), "first line must be the header"),
    "unknown type": (
        lambda lines: _edit(lines, "comment", lambda r: r.update(type="badge")),
        "unknown record type 'badge'",
    ),
    "missing field": (
        lambda lines: _edit(lines, "question", lambda r: r.pop("title")),
        "question record lacks title",
    ),
    "unknown field": (
        lambda lines: _edit(lines, "answer", lambda r: r.update(karma=3)),
        "unknown fields karma",
    ),
    "bad timestamp": (
        lambda lines: _edit(lines, "revision", lambda r: r.update(created_at="昨天")),
        "created_at must be an ISO 8601 timestamp",
    ),
    "bad choice": (
        lambda lines: _edit(lines, "vote", lambda r: r.update(value=5)),
        "value must be one of 1, -1",
    ),
    "string for a number": (
        lambda lines: _edit(lines, "answer", lambda r: r.update(score="7")),
        "score must be an integer",
    ),
    "number out of range": (
        lambda lines: _edit(lines, "tag", lambda r: r.update(question_count=-1)),
        "question_count is out of range",
    ),
    "NUL in text": (
        lambda lines: _edit(lines, "comment", lambda r: r.update(body="好\x00问题")),
        "body contains a NUL character",
    ),
    "NUL in details": (
        lambda lines: _edit(lines, "moderation_action", lambda r: r.update(details={"a": "\x00"})),
        "details contains a NUL character",
    ),
    "too long": (
        lambda lines: _edit(lines, "tag", lambda r: r.update(name="长" * 41)),
        "name is longer than 40 characters",
    ),
    "unknown tag name": (
        lambda lines: _edit(lines, "question", lambda r: r.update(tags=["没有这个标签"])),
        "which no tag record names",
    ),
    "bad follow-up": (
        lambda lines: _edit(lines, "question", lambda r: r.update(follow_ups=[{"text": 3}])),
        "follow_ups must be a list of",
    ),
    "text for a list": (
        lambda lines: _edit(lines, "revision", lambda r: r.update(key_points="一条")),
        "key_points must be a list of strings",
    ),
    "out of order": (_move_first_user_to_end, "a user record after practice_review records"),
}


@pytest.mark.parametrize("case", BAD_DUMPS, ids=list(BAD_DUMPS))
def test_import_refuses_bad_input_with_line_number_and_writes_nothing(populated, tmp_path, case):
    edit, message = BAD_DUMPS[case]
    lines, line_number = edit(export(tmp_path / "good.jsonl"))
    (tmp_path / "bad.jsonl").write_text("".join(lines), encoding="utf-8")
    wipe_database()

    with pytest.raises(CommandError) as error:
        import_file(tmp_path / "bad.jsonl")

    assert error.value.returncode == 2
    assert f"line {line_number}:" in str(error.value)
    assert message.lower() in str(error.value).lower()
    assert database_contents() == {} and not User.objects.exists()


def test_import_refuses_a_reference_to_a_missing_row(populated, tmp_path):
    lines, _line = _edit(export(tmp_path / "good.jsonl"), "answer",
                         lambda r: r.update(question_id=987654))  # fmt: skip
    (tmp_path / "bad.jsonl").write_text("".join(lines), encoding="utf-8")
    wipe_database()

    with pytest.raises(CommandError, match="987654") as error:
        import_file(tmp_path / "bad.jsonl")

    assert error.value.returncode == 2
    assert database_contents() == {} and not User.objects.exists()


def test_import_refuses_a_database_with_content(populated, tmp_path):
    export(tmp_path / "dump.jsonl")
    before = database_contents()

    with pytest.raises(CommandError, match="not empty") as error:
        import_file(tmp_path / "dump.jsonl")

    assert error.value.returncode == 2
    assert database_contents() == before


FULL_HEADER = b'{"format":"mianjing-dump","scope":"full","type":"header","version":1}\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (FULL_HEADER + b"\xff\xfe\n", "line 2: not UTF-8")],
    ids=["empty file", "not utf-8"],
)
def test_import_refuses_unreadable_files(db, tmp_path, content, message):
    (tmp_path / "bad.jsonl").write_bytes(content)
    with pytest.raises(CommandError, match=message) as error:
        import_file(tmp_path / "bad.jsonl")
    assert error.value.returncode == 2


def test_import_command_line_exits_with_code_2_on_an_unknown_version(tmp_path):
    """The real command line: the header is refused before the database is touched."""
    bad = tmp_path / "v9.jsonl"
    bad.write_text('{"format":"mianjing-dump","scope":"full","type":"header","version":9}\n')
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "import_kb", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "line 1: unsupported version 9" in result.stderr


def test_import_replaces_a_lone_system_account(populated, tmp_path):
    export(tmp_path / "dump.jsonl")
    wipe_database()
    system_user_get_or_create()

    import_file(tmp_path / "dump.jsonl")

    assert User.objects.filter(is_system=True).count() == 1
    assert User.objects.filter(username="alice").exists()


# --- The public dump from the API -----------------------------------------------------------


def api_dump(api_client) -> tuple[object, list[dict]]:
    response = api_client.get("/api/v1/dump/")
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, [json.loads(line) for line in body.splitlines()]


def test_api_dump_is_json_lines_without_private_data(populated, api_client):
    response, lines = api_dump(api_client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert lines[0]["scope"] == "public" and lines[0]["licence"] == "CC BY-SA 4.0"
    by_type: dict[str, list[dict]] = {}
    for record in lines[1:]:
        by_type.setdefault(record["type"], []).append(record)
    assert set(by_type) == {"user", "tag", "question", "answer", "revision", "comment",
                            "comment_revision", "moderation_action", "article_import"}  # fmt: skip
    assert set(by_type["user"][0]) == {"type", "id", "username", "display_name", "bio",
                                       "reputation", "is_system", "date_joined"}  # fmt: skip
    text = json.dumps(lines, ensure_ascii=False)
    assert "@example.com" not in text and "pbkdf2" not in text


def test_api_dump_leaves_out_deleted_posts_and_unreviewed_edits(populated, api_client):
    _response, lines = api_dump(api_client)

    questions = {r["id"]: r for r in lines if r["type"] == "question"}
    assert populated["deleted"].pk not in questions
    assert questions[populated["duplicate"].pk]["duplicate_of_id"] is None
    assert questions[populated["question"].pk]["accepted_answer_id"] == populated["answer"].pk
    assert populated["hidden_answer"].pk not in {r["id"] for r in lines if r["type"] == "answer"}
    revisions = [r for r in lines if r["type"] == "revision"]
    assert {r["status"] for r in revisions} == {"approved"}
    assert not [r for r in revisions if r["question_id"] == populated["deleted"].pk]
    actions = [r for r in lines if r["type"] == "moderation_action"]
    assert [a["action"] for a in actions] == ["comment_review"]


@pytest.mark.parametrize("question_count", [2, 20])
def test_api_dump_query_count_does_not_grow_with_rows(
    db, api_client, django_assert_max_num_queries, question_count
):
    author = UserFactory()
    for number in range(question_count):
        question = question_make(author=author, title=f"第 {number} 个问题: 什么是 KV cache?")
        answer_create(actor=UserFactory(), question=question, body="缓存键和值。")

    public_record_types = sum(1 for t in RECORD_TYPES if t.in_public_dump)
    with django_assert_max_num_queries(public_record_types):
        response, lines = api_dump(api_client)

    assert response.status_code == 200
    assert sum(1 for r in lines if r["type"] == "question") == question_count


def test_full_export_runs_one_query_per_record_type(populated):
    with CaptureQueriesContext(connection) as queries:
        lines = list(dump_lines(public=False))
    assert len(queries) == len(RECORD_TYPES)
    assert len(lines) > len(RECORD_TYPES)


def test_tag_question_counts_survive_the_round_trip(populated, tmp_path):
    counts = dict(Tag.objects.values_list("name", "question_count"))
    export(tmp_path / "dump.jsonl")
    wipe_database()
    import_file(tmp_path / "dump.jsonl")
    assert dict(Tag.objects.values_list("name", "question_count")) == counts


def test_api_dump_leaves_out_posts_and_comments_hidden_by_flags(populated, api_client):
    # The dump shows what an anonymous reader sees: a post hidden by spam flags (not deleted)
    # stays out, and so do the comments on it and references to it.
    question, answer = populated["question"], populated["answer"]
    spam_question = question_make(title="隐藏的问题: 广告链接?", tags=["llm"])
    spam_comment = comment_create(actor=populated["author"], post=answer, body="广告评论")
    Question.objects.filter(pk=spam_question.pk).update(hidden_by_flags=True)
    Answer.objects.filter(pk=answer.pk).update(hidden_by_flags=True)

    _response, lines = api_dump(api_client)

    ids = {(r["type"], r["id"]) for r in lines[1:]}
    assert ("question", spam_question.pk) not in ids
    assert ("answer", answer.pk) not in ids
    assert ("comment", spam_comment.pk) not in ids
    shown = {r["id"]: r for r in lines if r["type"] == "question"}
    assert shown[question.pk]["accepted_answer_id"] is None
    assert not [r for r in lines if r["type"] == "revision" and r["answer_id"] == answer.pk]
