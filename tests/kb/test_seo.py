"""What search engines and link previews read (kb/seo.py, kb/sitemaps.py, kb/views/seo.py):
titles, descriptions, canonical and hreflang links, Open Graph, QAPage JSON-LD, robots rules,
status codes of deleted posts, robots.txt, sitemap.xml, the favicon, compression and the CSS a
page links."""

import gzip
import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - our own sitemap, in a test
from html import unescape

import pytest
from django.utils import translation

from kb.models import Answer, Question, Tag
from kb.services.votes import vote_cast
from kb.sitemaps import QuestionSitemap
from kb.templatetags.kb_pages import question_url as page_url
from kb.views import html as html_views
from tests.factories import UserFactory, answer_make, question_make
from tests.kb.moderation_support import member
from tests.kb.qapage_schema import qa_page_errors

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def question_url(question) -> str:
    """The Chinese address (a request to /en/ leaves English active in the test's thread)."""
    with translation.override("zh-hans"):
        return page_url(question)


def html_of(response) -> str:
    return response.content.decode()


def meta(html: str, attribute: str, name: str) -> str | None:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    return unescape(found.group(1)) if found else None


def links(html: str, rel: str) -> dict[str, str]:
    """hreflang (or "" for none) -> href of the <link rel=…> elements."""
    result = {}
    for tag in re.findall(rf'<link rel="{rel}"[^>]*>', html):
        if 'type="application/atom+xml"' in tag:
            continue  # the page's Atom feed, not a language version
        hreflang = re.search(r'hreflang="([^"]+)"', tag)
        result[hreflang.group(1) if hreflang else ""] = re.search(r'href="([^"]+)"', tag).group(1)
    return result


def json_ld(html: str) -> list[dict]:
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]


@pytest.fixture
def discussion():
    asker = UserFactory(username="asker", display_name="提问者")
    question = question_make(
        author=asker,
        title="RMSNorm 和 LayerNorm 有什么区别?",
        body="请比较两者的公式 $$y = x$$ 和计算量 & 显存,并说明 RMSNorm 省掉了什么。" * 5,
        tags=("normalization",),
    )
    accepted = answer_make(question=question, body="RMSNorm 去掉了均值中心化。")
    other = answer_make(question=question, body="两者都有可学习的缩放参数 $\\gamma$。")
    Question.objects.filter(pk=question.pk).update(accepted_answer=accepted)
    vote_cast(actor=member(reputation=30), post=accepted, value=1)
    question.refresh_from_db()
    return {"question": question, "accepted": accepted, "other": other}


# --- the question page ---


def test_question_page_has_title_description_canonical_alternates_and_cards(client, discussion):
    question = discussion["question"]
    # Asked without its slug: the canonical address still has it.
    html = html_of(client.get(f"/questions/{question.pk}/"))
    address = "http://testserver" + question_url(question)
    assert f"<title>{question.title} · 面经</title>" in html
    description = meta(html, "name", "description")
    assert description.startswith("请比较两者的公式 … 和计算量 & 显存,并说明")  # no formula
    assert len(description) <= 155
    assert links(html, "canonical") == {"": address}
    assert links(html, "alternate") == {
        "zh-Hans": address,
        "en": address.replace("testserver/", "testserver/en/"),
        "x-default": address,
    }
    assert meta(html, "property", "og:type") == "article"
    assert meta(html, "property", "og:title") == question.title
    assert meta(html, "property", "og:url") == address
    assert meta(html, "property", "og:locale") == "zh_CN"
    assert meta(html, "property", "og:description") == description
    assert meta(html, "name", "twitter:card") == "summary"
    assert meta(html, "name", "robots") is None


def test_english_question_page_says_english_and_marks_chinese_text(client, discussion):
    question = discussion["question"]
    html = html_of(client.get("/en" + question_url(question)))
    assert '<html lang="en">' in html
    assert meta(html, "property", "og:locale") == "en_US"
    assert links(html, "canonical") == {"": "http://testserver/en" + question_url(question)}
    assert f'<h1 id="question-title" lang="zh-Hans">{question.title}</h1>' in html
    assert html.count('class="post-body" lang="zh-Hans"') == 3


def test_question_page_json_ld_is_a_valid_qa_page(client, discussion):
    question, accepted, other = discussion["question"], discussion["accepted"], discussion["other"]
    (data,) = json_ld(html_of(client.get(question_url(question))))
    assert qa_page_errors(data) == []
    entity = data["mainEntity"]
    assert entity["name"] == question.title
    assert entity["answerCount"] == 2
    assert entity["author"]["name"] == "提问者"
    assert entity["author"]["url"] == "http://testserver/users/asker/"
    assert entity["acceptedAnswer"]["text"] == "RMSNorm 去掉了均值中心化。"
    assert entity["acceptedAnswer"]["upvoteCount"] == 1
    assert entity["acceptedAnswer"]["url"].endswith(f"#answer-{accepted.pk}")
    assert [a["url"].rsplit("-", 1)[1] for a in entity["suggestedAnswer"]] == [str(other.pk)]
    assert entity["dateCreated"] == question.created_at.isoformat()


def test_json_ld_counts_only_answers_every_reader_sees(client, discussion):
    """A moderator's page shows deleted answers; the structured data never does."""
    Answer.objects.filter(pk=discussion["other"].pk).update(is_deleted=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    (data,) = json_ld(html_of(client.get(question_url(discussion["question"]))))
    assert qa_page_errors(data) == []
    assert data["mainEntity"]["answerCount"] == 1
    assert "suggestedAnswer" not in data["mainEntity"]


def test_a_question_without_answers_has_no_qa_page(client):
    question = question_make()
    assert json_ld(html_of(client.get(question_url(question)))) == []


def test_json_ld_cannot_close_its_script_element(client):
    question = question_make(title="</script><script>alert(1)</script> 是什么?")
    answer_make(question=question)
    html = html_of(client.get(question_url(question)))
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "<" not in block
    assert json.loads(block)["mainEntity"]["name"].startswith("</script>")


# The schema check itself: each broken document is caught.
GOOD = {
    "@context": "https://schema.org",
    "@type": "QAPage",
    "mainEntity": {
        "@type": "Question",
        "name": "问题",
        "text": "正文",
        "answerCount": 1,
        "upvoteCount": 3,
        "dateCreated": "2026-01-02T03:04:05+08:00",
        "datePublished": "2026-01-02T03:04:05+08:00",
        "author": {"@type": "Person", "name": "作者", "url": "https://example.com/users/a/"},
        "acceptedAnswer": {
            "@type": "Answer",
            "text": "回答",
            "upvoteCount": 0,
            "dateCreated": "2026-01-02T03:04:05+00:00",
            "datePublished": "2026-01-02T03:04:05+00:00",
            "url": "https://example.com/questions/1/#answer-2",
            "author": {"@type": "Person", "name": "答者", "url": "https://example.com/users/b/"},
        },
    },
}


def broken(path: str, value=KeyError):
    data = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    target = data
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (broken("@type", "WebPage"), "QAPage.@type"),
        (broken("mainEntity.name"), "mainEntity.name: missing"),
        (broken("mainEntity.name", ""), "mainEntity.name"),
        (broken("mainEntity.text", "<p>正文</p>"), "mainEntity.text: plain text"),
        (broken("mainEntity.answerCount", "1"), "mainEntity.answerCount: an integer"),
        (broken("mainEntity.answerCount", 2), "mainEntity.answerCount: 2 but 1 answers"),
        (broken("mainEntity.upvoteCount", 1.5), "mainEntity.upvoteCount"),
        (broken("mainEntity.dateCreated", "2026-01-02"), "mainEntity.dateCreated"),
        (broken("mainEntity.dateCreated", "2026-01-02T03:04:05"), "with a time zone"),
        (broken("mainEntity.author.name"), "mainEntity.author.name: missing"),
        (broken("mainEntity.acceptedAnswer"), "acceptedAnswer or suggestedAnswer required"),
        (broken("mainEntity.acceptedAnswer.text"), "acceptedAnswer.text: missing"),
        (broken("mainEntity.acceptedAnswer.url", "/questions/1/"), "acceptedAnswer.url"),
        (broken("mainEntity.acceptedAnswer.author", "答者"), "acceptedAnswer.author"),
        (broken("mainEntity.acceptedAnswer.upvoteCount", True), "acceptedAnswer.upvoteCount"),
        (broken("mainEntity.suggestedAnswer", {}), "suggestedAnswer: a list"),
    ],
)
def test_the_schema_check_catches_each_missing_or_mistyped_property(data, error):
    assert qa_page_errors(GOOD) == []
    errors = qa_page_errors(data)
    assert any(error in message for message in errors), errors


# --- robots rules and status codes ---


@pytest.mark.parametrize(
    ("path", "robots"),
    [
        ("/", None),
        ("/?page=1", None),
        ("/tags/", None),
        ("/search/?q=RMSNorm", "noindex, follow"),
        ("/search/", "noindex, follow"),
        ("/?page=2", "noindex, follow"),
        ("/?tab=votes&page=2", "noindex, follow"),
        ("/tags/normalization/?page=2", "noindex, follow"),
    ],
)
def test_search_results_and_later_pages_are_not_indexed(client, monkeypatch, path, robots):
    monkeypatch.setattr(html_views, "QUESTIONS_PER_PAGE", 1)
    for _ in range(3):
        question_make(tags=("normalization",))
    html = html_of(client.get(path))
    assert meta(html, "name", "robots") == robots
    # A page that is not indexed names no canonical address (it would contradict the noindex).
    assert (links(html, "canonical") == {}) == (robots is not None)


def test_canonical_keeps_only_the_parameters_that_choose_the_content(client):
    question_make()
    html = html_of(client.get("/?tab=votes&utm_source=x&page=1"))
    assert links(html, "canonical") == {"": "http://testserver/?tab=votes"}
    assert links(html, "alternate")["en"] == "http://testserver/en/?tab=votes"


def test_deleted_question_is_gone_for_readers_and_not_indexed_for_its_author(client):
    author = UserFactory()
    question = question_make(author=author)
    hidden = question_make()
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    Question.objects.filter(pk=hidden.pk).update(hidden_by_flags=True)
    gone = client.get(f"/questions/{question.pk}/")
    assert gone.status_code == 410
    assert meta(html_of(gone), "name", "robots") == "noindex"
    assert client.get(f"/questions/{hidden.pk}/").status_code == 404  # under review: may return
    assert client.get("/questions/999999/").status_code == 404
    client.force_login(author)
    page = client.get(question_url(question))
    assert page.status_code == 200
    assert meta(html_of(page), "name", "robots") == "noindex"


def test_robots_txt_disallows_search_and_actions_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    rules = response.content.decode().splitlines()
    assert rules[0] == "User-agent: *"
    for path in ("/search/", "/en/search/", "/*/edit/", "/*/vote/", "/*/accept/", "/api/"):
        assert f"Disallow: {path}" in rules
    assert "Disallow: /questions/" not in rules and "Disallow: /" not in rules
    assert rules[-1] == "Sitemap: http://testserver/sitemap.xml"


# --- sitemap.xml ---


def sitemap_urls(client, path: str) -> list[dict]:
    root = ET.fromstring(client.get(path).content)  # noqa: S314
    return [
        {
            "loc": url.findtext(f"{SITEMAP}loc"),
            "lastmod": url.findtext(f"{SITEMAP}lastmod"),
            "alternates": {
                link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")
            },
        }
        for url in root.iter(f"{SITEMAP}url")
    ]


def test_sitemap_lists_visible_questions_in_both_languages_with_lastmod(client):
    question = question_make(title="什么是 KV Cache?")
    deleted = question_make()
    Question.objects.filter(pk=deleted.pk).update(status=Question.Status.DELETED)
    index = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314
    sections = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert "http://testserver/sitemap-questions.xml" in sections
    urls = sitemap_urls(client, "/sitemap-questions.xml")
    address = "http://testserver" + question_url(question)
    english = address.replace("testserver/", "testserver/en/")
    assert [u["loc"] for u in urls] == [address, english]
    assert "%E4%BB%80" in address  # percent-encoded, as the protocol requires
    question.refresh_from_db()
    assert urls[0]["lastmod"] == question.last_activity_at.date().isoformat()
    assert urls[0]["alternates"] == {"zh-hans": address, "en": english, "x-default": address}
    tags = [u["loc"] for u in sitemap_urls(client, "/sitemap-tags.xml")]
    assert tags == ["http://testserver/tags/llm/", "http://testserver/en/tags/llm/"]


def test_sitemap_pages_hold_at_most_the_limit_and_cost_two_queries_each(
    client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(QuestionSitemap, "limit", 4)  # 2 questions x 2 languages a page
    questions = [question_make() for _ in range(5)]
    # questions: a count and the newest lastmod; tags: a count; pages: none
    with django_assert_num_queries(3):
        index = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314
    pages = [loc.text for loc in index.iter(f"{SITEMAP}loc") if "questions" in loc.text]
    assert pages == [
        "http://testserver/sitemap-questions.xml",
        "http://testserver/sitemap-questions.xml?p=2",
        "http://testserver/sitemap-questions.xml?p=3",
    ]
    seen = []
    for number in (1, 2, 3):
        with django_assert_num_queries(2):  # the count, then the page's rows
            urls = sitemap_urls(client, f"/sitemap-questions.xml?p={number}")
        assert len(urls) <= 4
        seen += [u["loc"] for u in urls]
    assert len(seen) == 10 == len(set(seen))
    for question in questions:
        assert "http://testserver" + question_url(question) in seen


def test_sitemap_query_plan_reads_the_primary_key_index():
    """The page query is ordered by the primary key and cut with LIMIT/OFFSET: an index scan,
    never a sort of every question (asserted on the SQL, the same at 100,000 rows)."""
    sql = str(QuestionSitemap().items()[20000:25000].query)
    assert sql.startswith('SELECT "kb_question"."id" AS "pk",') and "ORDER BY 1 ASC" in sql
    assert "LIMIT 5000 OFFSET 20000" in sql
    assert '"kb_question"."body' not in sql  # values(): three columns, no Markdown


# --- small things ---


def test_favicon_ico_and_the_manifest_are_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"
    html = html_of(client.get("/"))
    assert '<link rel="icon" href="/static/kb/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="manifest" href="/static/kb/manifest.webmanifest">' in html


def test_html_is_gzipped_but_never_the_page_with_a_new_api_token(client):
    question_make()
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert "回答" in gzip.decompress(response.content).decode() or response.content
    assert "Accept-Encoding" in response["Vary"]
    user = UserFactory()
    client.force_login(user)
    created = client.post("/accounts/tokens/", {"name": "脚本"}, HTTP_ACCEPT_ENCODING="gzip")
    assert created.status_code == 200
    assert not created.has_header("Content-Encoding")
    assert "脚本" in created.content.decode()


def test_pages_link_only_the_css_they_use(client, discussion):
    plain = discussion["question"]
    with_code = question_make(body="```python\nprint(1)\n```")
    home = html_of(client.get("/"))
    assert "code.css" not in home and "moderation.css" not in home
    assert "code.css" not in html_of(client.get(question_url(plain)))
    assert "moderation.css" not in html_of(client.get(question_url(plain)))
    assert "code.css" in html_of(client.get(question_url(with_code)))
    client.force_login(UserFactory())  # a member gets the answer editor (its preview has code)
    member_page = html_of(client.get(question_url(plain)))
    assert "code.css" in member_page and "moderation.css" in member_page


def test_tag_page_description_counts_its_questions(client):
    question_make(tags=("normalization",))
    Tag.objects.filter(name="normalization").update(description="")
    html = html_of(client.get("/tags/normalization/"))
    assert meta(html, "name", "description") == "关于 normalization 的 1 道面试题，附社区解答。"


def test_sitemap_lists_the_directory_the_data_page_and_the_help_pages(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        urls = sitemap_urls(client, "/sitemap-pages.xml")
    locations = [u["loc"] for u in urls]
    expected = ["/", "/tags/", "/users/", "/data/", "/help/about/", "/help/how-to-ask/",
                "/help/how-to-answer/", "/help/privileges/"]  # fmt: skip
    assert locations == [
        f"http://testserver{prefix}{path}" for path in expected for prefix in ("", "/en")
    ]
    help_page = urls[locations.index("http://testserver/help/privileges/")]
    assert help_page["alternates"]["en"] == "http://testserver/en/help/privileges/"
    for location in locations:  # every listed page is there and indexable
        response = client.get(location)
        assert response.status_code == 200, location
        assert 'name="robots"' not in response.content.decode(), location


def test_a_member_search_is_not_indexed_but_the_directory_is(client):
    directory = html_of(client.get("/users/"))
    assert meta(directory, "name", "robots") is None
    found = html_of(client.get("/users/", {"q": "starter"}))
    assert meta(found, "name", "robots") == "noindex, follow"
    assert 'rel="canonical"' not in found
