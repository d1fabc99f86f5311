"""`load_starter --update`: starter files reach an existing site, never over community edits."""

import io
import textwrap

import pytest
from django.core.management import call_command

from kb.models import Answer, Question, Tag
from kb.services.edits import post_edit
from kb.services.starter import starter_load
from kb.starter import parse_question_file
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANSWER = "回答正文。" * 30
FIRST_FOLLOW_UPS = '{ text = "追问二", ref = "02-second" }, { text = "无链接" }'

TAGS = """
[tags.llm]
description = "大语言模型"
aliases = ["大模型"]
"""


def question_file(title, *, body="问题正文?", difficulty="basic", points=("甲", "乙", "丙"),
                  follow_ups="", answer=ANSWER) -> str:  # fmt: skip
    quoted = ", ".join(f'"{p}"' for p in points)
    return textwrap.dedent(f'''\
        +++
        title = "{title}"
        tags = ["llm"]
        body = """{body}"""
        difficulty = "{difficulty}"
        short_answer = "一句话。"
        key_points = [{quoted}]
        common_mistakes = ["误区一", "误区二"]
        follow_ups = [{follow_ups}]
        +++
        ''') + answer + "\n"  # fmt: skip


@pytest.fixture
def starter_dir(tmp_path):
    (tmp_path / "questions").mkdir()
    (tmp_path / "tags.toml").write_text(TAGS, encoding="utf-8")
    write(
        tmp_path,
        "01-first",
        question_file(
            "第一个问题是什么?",
            follow_ups='{ text = "追问二", ref = "02-second" }, { text = "无链接" }',
        ),
    )
    write(tmp_path, "02-second", question_file(
        "第二个问题是什么?", follow_ups='{ text = "追问一", ref = "01-first" }'))  # fmt: skip
    return tmp_path


def write(directory, stem, text):
    (directory / "questions" / f"{stem}.md").write_text(text, encoding="utf-8")


def by_stem(stem) -> Question:
    return Question.objects.get(revisions__number=1, revisions__summary=f"starter content: {stem}")


def test_parse_reads_the_interview_fields(starter_dir):
    item = parse_question_file(starter_dir / "questions" / "01-first.md")
    assert (item.difficulty, item.short_answer) == ("basic", "一句话。")
    assert item.key_points == ["甲", "乙", "丙"] and item.common_mistakes == ["误区一", "误区二"]
    assert [(f.text, f.ref) for f in item.follow_ups] == [("追问二", "02-second"), ("无链接", None)]


def test_parse_refuses_an_unknown_key(starter_dir):
    write(starter_dir, "03-bad", question_file("坏文件?").replace("difficulty =", "level ="))
    with pytest.raises(ValueError, match="unknown front matter keys level"):
        parse_question_file(starter_dir / "questions" / "03-bad.md")


def test_a_forward_follow_up_is_linked_once_all_are_loaded(starter_dir):
    starter_load(directory=starter_dir)
    first, second = by_stem("01-first"), by_stem("02-second")
    assert first.follow_ups == [{"text": "追问二", "question_id": second.pk},
                                {"text": "无链接", "question_id": None}]  # fmt: skip
    assert second.follow_ups == [{"text": "追问一", "question_id": first.pk}]
    # 01 was loaded before 02 existed: its link is a second revision, 02 needed none.
    assert (first.revision_count, second.revision_count) == (2, 1)


def test_update_adds_what_is_missing_and_applies_changes_to_unedited_posts(starter_dir):
    starter_load(directory=starter_dir)
    write(starter_dir, "02-second", question_file(
        "第二个问题改了标题?", difficulty="advanced",
        follow_ups='{ text = "追问一", ref = "01-first" }', answer=ANSWER + "补充。"))  # fmt: skip
    write(starter_dir, "03-third", question_file("第三个问题是什么?"))
    (starter_dir / "tags.toml").write_text(TAGS + '[tags.rag]\ndescription = "检索增强"\n')
    Tag.objects.filter(name="llm").update(description="社区改过的描述")

    report = starter_load(directory=starter_dir, update=True)

    second = by_stem("02-second")
    assert second.title == "第二个问题改了标题?" and second.difficulty == "advanced"
    assert second.revisions.latest("number").summary == "starter content update"
    assert Answer.objects.get(question=second).body.endswith("补充。")
    assert by_stem("03-third").key_points == ["甲", "乙", "丙"]
    assert report.tags_added == ["rag"]
    assert Tag.objects.get(name="llm").description == "社区改过的描述"
    assert report.created == ["第三个问题是什么?"]
    assert len(report.updated) == 2 and report.kept == []
    assert Question.objects.count() == 3


def test_update_never_overwrites_a_community_edit_and_reports_it(starter_dir):
    starter_load(directory=starter_dir)
    first = by_stem("01-first")
    answer = Answer.objects.get(question=first)
    member = UserFactory()
    # A suggested (pending) edit by a member counts: someone has worked on this post.
    post_edit(actor=member, post=first, base_revision=first.revision_count, body="社区改写。")
    write(starter_dir, "01-first", question_file(
        "第一个问题是什么?", body="文件里的新正文?", answer=ANSWER + "新答案。",
        follow_ups=FIRST_FOLLOW_UPS))  # fmt: skip
    post_edit(actor=member, post=answer, base_revision=1, body=ANSWER + "社区补充。")

    report = starter_load(directory=starter_dir, update=True)

    first.refresh_from_db()
    answer.refresh_from_db()
    assert first.body == "问题正文?"  # the pending suggestion waits; the file did not apply
    assert answer.body == ANSWER  # pending too: not applied, not overwritten
    assert report.updated == []
    assert report.kept == ["01-first: 第一个问题是什么?", "01-first: 第一个问题是什么? (answer 1)"]


def test_update_of_an_unchanged_site_changes_nothing(starter_dir):
    starter_load(directory=starter_dir)
    revisions = sorted(Question.objects.values_list("pk", "revision_count"))
    report = starter_load(directory=starter_dir, update=True)
    assert sorted(Question.objects.values_list("pk", "revision_count")) == revisions
    assert report.updated == [] and report.kept == [] and len(report.unchanged) == 4


def test_load_starter_update_command_reports():
    call_command("load_starter")
    out = io.StringIO()
    call_command("load_starter", "--update", stdout=out)
    assert "0 posts updated" in out.getvalue() and "0 questions created" in out.getvalue()
