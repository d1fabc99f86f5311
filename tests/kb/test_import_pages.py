"""The import page, an import's page, verifying from the question page, and the import API:
permissions, the plan round trip without JavaScript, bad input, query counts."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kb.models import Answer, ArticleImport, ModerationAction, Question
from kb.rules import rule
from tests.factories import UserFactory, moderator_create, question_make
from tests.kb.moderation_support import member

CORPUS = Path(__file__).resolve().parent / "articles" / "corpus"
COMMON = (CORPUS / "llm_vlm_common.txt").read_text(encoding="utf-8")
SHORT = """面试题三则

什么是注意力机制？
注意力按相关性给每个位置加权求和。

LayerNorm和BatchNorm的区别
LayerNorm 在特征维度归一化，BatchNorm 在 batch 维度。
主要区别在统计量。

KV Cache原理
缓存历史 token 的 K 和 V，避免重复计算。
"""


# Matching one question against the knowledge base: the site's duplicate search (a savepoint, its
# planner settings, the ranked query, the fuzzy-title threshold and query) and one pg_trgm query.
QUERIES_PER_QUESTION = 7
PAGE_QUERIES = 8  # session, user, moderator group, tag vocabulary (2), answers of the matches...


def rows() -> tuple[int, int, int]:
    return Question.objects.count(), Answer.objects.count(), ArticleImport.objects.count()


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def importer(db):
    return member(rule("PRIVILEGE_IMPORT"))


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("member", 403), ("almost", 403), ("importer", 200), ("moderator", 200)],
)
def test_the_import_page_is_for_the_import_privilege(db, who, status):
    user = {
        "anonymous": lambda: None,
        "member": lambda: UserFactory(),
        "almost": lambda: member(rule("PRIVILEGE_IMPORT") - 1),
        "importer": lambda: member(rule("PRIVILEGE_IMPORT")),
        "moderator": moderator_create,
    }[who]()
    assert client_for(user).get("/import/").status_code == status
    response = client_for(user).post("/import/", {"text": SHORT})
    assert response.status_code == status
    assert rows() == (0, 0, 0)


def test_pasted_text_shows_the_plan_with_matches(importer, django_assert_max_num_queries):
    existing = question_make(title="LayerNorm 与 BatchNorm 有什么区别？")
    client = client_for(importer)
    with django_assert_max_num_queries(PAGE_QUERIES + 3 * QUERIES_PER_QUESTION):
        response = client.post("/import/", {"text": SHORT, "source_url": "https://a.example/1"})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [e.title for e in plan.entries] == [
        "什么是注意力机制？",
        "LayerNorm和BatchNorm的区别",
        "KV Cache原理",
    ]
    assert [e.action for e in plan.entries] == ["new", "add", "new"]
    html = response.content.decode()
    assert f"与 #{existing.pk} 相同" in html or f"same as #{existing.pk}" in html
    assert rows()[2] == 0  # a plan writes nothing


def test_a_gbk_upload_is_decoded_and_says_so(importer):
    upload = SimpleUploadedFile("forum.txt", (CORPUS / "gbk_forum.txt").read_bytes())
    response = client_for(importer).post("/import/", {"file": upload})
    assert response.status_code == 200
    assert len(response.context["plan"].entries) == 3
    assert "GB18030" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.exe", b"MZ\x90\x00", ".txt"),
        ("notes.txt", b"\x00\x01\x02binary", "binary"),
        ("notes.txt", b"   \n", "empty"),
        ("notes.txt", "今天面试聊得不错。\n".encode(), "no questions found"),
        ("notes.md", b"a" * (10 * 1024 * 1024), "MB"),
    ],
    ids=["extension", "binary", "empty", "no-questions", "10-MB"],
)
def test_bad_uploads_get_a_clear_error_and_write_nothing(importer, name, content, message):
    response = client_for(importer).post("/import/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert rows() == (0, 0, 0)


def _plan_post(response, **changes) -> dict:
    """The plan form as the browser would send it, with some fields changed."""
    plan = response.context["plan"]
    data = {
        "page_title": plan.page_title,
        "source_name": plan.source_name,
        "encoding": plan.encoding,
        "content_hash": plan.content_hash,
        "entry_count": str(len(plan.entries)),
        "source_title": plan.page_title,
        "source_url": "https://a.example/1",
        "license": "CC BY-SA 4.0",
    }
    for index, entry in enumerate(plan.entries):
        prefix = f"entry-{index}-"
        data |= {
            prefix + "title": entry.title,
            prefix + "answer": entry.answer,
            prefix + "tags": " ".join(entry.tags),
            prefix + "section": entry.section,
            prefix + "body": entry.body,
            prefix + "action": entry.action,
            prefix + "target": entry.target_id or "",
        }
    data.update(changes)
    return data


def test_the_plan_is_adjusted_and_imported_without_javascript(importer):
    existing = question_make(title="LayerNorm 与 BatchNorm 有什么区别？")
    client = client_for(importer)
    plan_page = client.post("/import/", {"text": SHORT})
    # Merge the last two, rename the first, then update the plan.
    merged = client.post(
        "/import/", _plan_post(plan_page, merge="1", **{"entry-0-title": "注意力机制是什么？"})
    )
    assert [e.title for e in merged.context["plan"].entries] == [
        "注意力机制是什么？",
        "LayerNorm和BatchNorm的区别",
    ]
    assert "KV Cache原理\n\n缓存历史" in merged.context["plan"].entries[1].answer
    # Split the merged one again at its line, skip the match, and import.
    split = client.post(
        "/import/",
        _plan_post(merged, **{"entry-1-split": "KV Cache原理", "entry-1-action": "skip"}),
    )
    assert [e.title for e in split.context["plan"].entries] == [
        "注意力机制是什么？",
        "LayerNorm和BatchNorm的区别",
        "KV Cache原理",
    ]
    done = client.post("/import/", _plan_post(split, **{"import": "1", "entry-2-tags": "llm"}))
    article_import = ArticleImport.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"/imports/{article_import.pk}/")
    titles = set(
        Question.objects.filter(pk__in=article_import.question_ids).values_list("title", flat=True)
    )
    assert titles == {"注意力机制是什么？", "KV Cache原理"}
    assert not Answer.objects.filter(question=existing).exists()  # skipped
    assert article_import.license == "CC BY-SA 4.0"


def test_choosing_add_without_a_question_number_is_an_error(importer):
    client = client_for(importer)
    plan_page = client.post("/import/", {"text": SHORT})
    response = client.post(
        "/import/", _plan_post(plan_page, **{"import": "1", "entry-0-action": "add"})
    )
    assert response.status_code == 400
    assert rows()[2] == 0


def test_importing_twice_creates_nothing_the_second_time(importer):
    client = client_for(importer)
    client.post("/import/", _plan_post(client.post("/import/", {"text": SHORT}), **{"import": "1"}))
    before = rows()
    second = client.post("/import/", {"text": SHORT})
    assert [e.action for e in second.context["plan"].entries] == ["skip"] * 3
    response = client.post("/import/", _plan_post(second, **{"import": "1"}), follow=True)
    assert rows() == before
    assert "Nothing to import" in response.content.decode() or "没有" in response.content.decode()


def test_scripts_in_an_uploaded_page_are_never_stored(importer):
    page = (
        "<html><head><title>题</title><script>alert(1)</script></head><body><h1>题</h1>"
        "<h2>什么是注意力机制？</h2><p>加权求和。<script>steal()</script></p>"
        "<h2>什么是位置编码？</h2><p onclick='x()'>给位置信息。<img src=x onerror=alert(2)></p>"
        "</body></html>"
    )
    client = client_for(importer)
    plan_page = client.post("/import/", {"file": SimpleUploadedFile("p.html", page.encode())})
    client.post("/import/", _plan_post(plan_page, **{"import": "1"}))
    stored = " ".join(Answer.objects.values_list("body", flat=True)) + " ".join(
        Answer.objects.values_list("body_html", flat=True)
    )
    assert Answer.objects.count() == 2
    for bad in ("script", "alert", "steal", "onclick", "onerror"):
        assert bad not in stored


@pytest.fixture
def imported(importer):
    client = client_for(importer)
    client.post("/import/", _plan_post(client.post("/import/", {"text": SHORT}), **{"import": "1"}))
    return ArticleImport.objects.get()


def test_the_question_page_shows_the_unverified_banner_and_provenance(
    imported, django_assert_max_num_queries
):
    answer = Answer.objects.get(pk=imported.answer_ids[0])
    reviewer = member(rule("PRIVILEGE_REVIEW_EDITS"))
    client = client_for(reviewer)
    url = f"/questions/{answer.question_id}/"
    with django_assert_max_num_queries(20):
        html = client.get(url).content.decode()
    assert "待核实" in html and "https://a.example/1" in html and "CC BY-SA 4.0" in html
    assert f"/answers/{answer.pk}/verify/" in html
    assert (
        f"/answers/{answer.pk}/verify/" not in client_for(UserFactory()).get(url).content.decode()
    )
    client.post(f"/answers/{answer.pk}/verify/")
    answer.refresh_from_db()
    assert answer.verification == "verified"
    assert "待核实" not in client.get(url).content.decode()


def test_the_import_page_and_detail_page_query_counts(imported, django_assert_max_num_queries):
    client = client_for(imported.actor)
    with django_assert_max_num_queries(8):
        assert client.get("/import/").status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get(f"/imports/{imported.pk}/")
    assert response.status_code == 200 and "KV Cache原理" in response.content.decode()
    assert (
        client_for(member(rule("PRIVILEGE_IMPORT"))).get(f"/imports/{imported.pk}/").status_code
        == 404
    )


def test_undo_from_the_import_page(imported):
    assert (
        client_for(member(rule("PRIVILEGE_IMPORT")))
        .post(f"/imports/{imported.pk}/undo/")
        .status_code
        == 404
    )
    client_for(imported.actor).post(f"/imports/{imported.pk}/undo/")
    imported.refresh_from_db()
    assert imported.undone_at is not None
    assert set(
        Question.objects.filter(pk__in=imported.question_ids).values_list("status", flat=True)
    ) == {"deleted"}


def test_the_correction_queue_lists_unverified_answers(imported, django_assert_max_num_queries):
    client = client_for(member(rule("PRIVILEGE_EDIT_DIRECTLY")))
    with django_assert_max_num_queries(10):
        html = client.get("/review/corrections/").content.decode()
    assert "KV Cache原理" in html and "面试题三则" in html


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 403), ("member", 403), ("importer", 200), ("moderator", 200)]
)
def test_api_dry_run_permissions(api_client, db, who, status):
    user = {
        "anonymous": lambda: None,
        "member": lambda: member(rule("PRIVILEGE_IMPORT") - 1),
        "importer": lambda: member(rule("PRIVILEGE_IMPORT")),
        "moderator": moderator_create,
    }[who]()
    if user:
        api_client.force_authenticate(user)
    response = api_client.post("/api/v1/imports/?dry_run=1", {"text": SHORT}, format="json")
    assert response.status_code in ((401, 403) if status == 403 else (status,))
    if status != 200:
        assert "error" in response.json()
    assert rows() == (0, 0, 0)


def test_api_returns_the_plan_then_imports_then_does_nothing_again(
    api_client, importer, django_assert_max_num_queries
):
    api_client.force_authenticate(importer)
    upload = SimpleUploadedFile("common.txt", COMMON.encode())
    with django_assert_max_num_queries(PAGE_QUERIES + 16 * QUERIES_PER_QUESTION):
        plan = api_client.post("/api/v1/imports/?dry_run=1", {"file": upload}, format="multipart")
    assert plan.status_code == 200 and rows() == (0, 0, 0)
    assert len(plan.json()["entries"]) == 16 and plan.json()["counts"]["new"] == 16
    body = {"text": COMMON, "source_url": "https://blog.example.com/x", "license": "CC BY 4.0"}
    result = api_client.post("/api/v1/imports/", body, format="json")
    assert result.status_code == 201
    assert len(result.json()["created_question_ids"]) == 16
    again = api_client.post("/api/v1/imports/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] is None
    assert rows() == (16, 16, 1)
    log = ModerationAction.objects.get(action="article_import")
    assert log.details["import"] == result.json()["id"]
    # The answer API shows the status and the provenance.
    answer_id = ArticleImport.objects.get().answer_ids[0]
    answer = api_client.get(f"/api/v1/answers/{answer_id}/").json()
    assert answer["verification"] == "unverified"
    assert answer["provenance"]["source_url"] == "https://blog.example.com/x"
    assert answer["provenance"]["license"] == "CC BY 4.0"
    assert answer["provenance"]["imported_by"] == importer.username


def test_api_entries_replace_the_parsed_plan(api_client, importer):
    api_client.force_authenticate(importer)
    plan = api_client.post("/api/v1/imports/?dry_run=1", {"text": SHORT}, format="json").json()
    entries = plan["entries"]
    entries[0]["title"] = "注意力机制是什么？"
    entries[1]["action"] = "skip"
    result = api_client.post("/api/v1/imports/", {"text": SHORT, "entries": entries}, format="json")
    assert result.status_code == 201
    titles = set(Question.objects.values_list("title", flat=True))
    assert titles == {"注意力机制是什么？", "KV Cache原理"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": ""}, "file"),
        ({"text": "今天面试聊得不错。"}, "file"),
        ({"text": SHORT, "source_url": "javascript:alert(1)"}, "source_url"),
    ],
    ids=["empty", "no-questions", "bad-url"],
)
def test_api_bad_input_is_a_400_with_the_error_shape(api_client, importer, data, field):
    api_client.force_authenticate(importer)
    response = api_client.post("/api/v1/imports/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert rows() == (0, 0, 0)


def test_api_undo_and_verify(api_client, imported):
    answer_id = imported.answer_ids[0]
    reviewer = member(rule("PRIVILEGE_REVIEW_EDITS"))
    api_client.force_authenticate(UserFactory())
    assert api_client.post(f"/api/v1/answers/{answer_id}/verify/").status_code == 403
    assert api_client.post(f"/api/v1/imports/{imported.pk}/undo/").status_code == 404
    api_client.force_authenticate(reviewer)
    verified = api_client.post(f"/api/v1/answers/{answer_id}/verify/")
    assert verified.status_code == 200 and verified.json()["verification"] == "verified"
    api_client.force_authenticate(imported.actor)
    undone = api_client.post(f"/api/v1/imports/{imported.pk}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert api_client.post(f"/api/v1/imports/{imported.pk}/undo/").status_code == 403


def test_verify_and_undo_endpoints_query_counts(
    api_client, imported, django_assert_max_num_queries
):
    answer_id = imported.answer_ids[0]
    api_client.force_authenticate(member(rule("PRIVILEGE_REVIEW_EDITS")))
    with django_assert_max_num_queries(12):
        assert api_client.post(f"/api/v1/answers/{answer_id}/verify/").status_code == 200
    api_client.force_authenticate(imported.actor)
    # Undo deletes each created post through the moderators' delete: a bounded cost per post.
    posts = len(imported.answer_ids) + len(imported.question_ids)
    with django_assert_max_num_queries(10 + 16 * posts):
        assert api_client.post(f"/api/v1/imports/{imported.pk}/undo/").status_code == 200
