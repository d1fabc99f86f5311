"""Loading the starter content (kb/starter) through the ordinary services.

A starter question's revision 1 carries the summary `starter content: <file stem>`, which is how a
later load finds it again even after its title changed. `starter_load(update=True)` brings an
existing site up to date with the files: it adds missing tags, questions and answers, and applies a
changed file to a post only when every revision of that post is the system account's (nobody has
edited it since it was loaded); posts the community edited are reported and left alone.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from kb.interview import Interview
from kb.models import Answer, Question, Revision, Tag
from kb.rules import rule
from kb.selectors.questions import tag_names
from kb.services.answers import answer_create
from kb.services.edits import post_edit
from kb.services.questions import question_create
from kb.services.tags import tag_upsert
from kb.starter import STARTER_DIR, StarterQuestion, starter_questions, starter_tags

SUMMARY = "starter content"
UPDATE_SUMMARY = "starter content update"
LINK_SUMMARY = "starter content: link follow-up questions"


def system_user_get_or_create():
    """The account that owns starter content; it cannot log in."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=rule("SYSTEM_USERNAME"),
        defaults={"display_name": "面经 Mianjing", "is_system": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@dataclass
class StarterReport:
    created: list[str] = field(default_factory=list)  # questions added
    skipped: list[str] = field(default_factory=list)  # already there (a load without update)
    updated: list[str] = field(default_factory=list)  # posts changed to the file's version
    unchanged: list[str] = field(default_factory=list)  # already equal to the file
    kept: list[str] = field(default_factory=list)  # edited by the community: left alone
    tags_added: list[str] = field(default_factory=list)


def _interview_of(item: StarterQuestion, ids: dict[str, int]) -> dict:
    """The file's interview fields; a follow-up's ref becomes the id of the question loaded
    from that file (None while it is not loaded)."""
    return {
        "difficulty": item.difficulty,
        "short_answer": item.short_answer,
        "key_points": item.key_points,
        "common_mistakes": item.common_mistakes,
        "follow_ups": [
            {"text": f.text, "question_id": ids.get(f.ref) if f.ref else None}
            for f in item.follow_ups
        ],
    }


def _find(item: StarterQuestion) -> Question | None:
    """The question loaded from this file: by the stem in its revision 1's summary, or (sites
    loaded before stems were recorded) by its title."""
    by_stem = Question.objects.filter(
        revisions__number=1, revisions__summary=f"{SUMMARY}: {item.stem}"
    ).first()
    return by_stem or Question.objects.filter(title__iexact=item.title).first()


def _only_system_revisions(post: Question | Answer, system_user) -> bool:
    key = "question" if isinstance(post, Question) else "answer"
    return not Revision.objects.filter(Q(**{key: post}) & ~Q(author=system_user)).exists()


def _question_matches(question: Question, item: StarterQuestion, interview: dict) -> bool:
    current = Interview.of(question).model_values()
    return (
        question.title == item.title
        and question.body == item.body
        and sorted(question.tag_names) == sorted(item.tags)
        and current == interview
    )


@transaction.atomic
def starter_load(*, update: bool = False, directory: Path = STARTER_DIR) -> StarterReport:
    """Load the starter tags and questions through the ordinary services (idempotent).

    Without `update`, a question that is already there is skipped and tags are upserted. With
    `update`, only missing tags are added (a tag's description may have been edited), and changed
    starter content is applied to the posts nobody else has edited."""
    report = StarterReport()
    existing_tags = {name.lower() for name in Tag.objects.values_list("name", flat=True)}
    for tag in starter_tags(directory):
        if update and tag.name.lower() in existing_tags:
            continue
        if tag.name.lower() not in existing_tags:
            report.tags_added.append(tag.name)
        tag_upsert(name=tag.name, description=tag.description, aliases=tag.aliases)
    author = system_user_get_or_create()
    items = starter_questions(directory)
    found = {item.stem: _find(item) for item in items}
    ids = {stem: q.pk for stem, q in found.items() if q is not None}

    new_items = []
    for item in items:
        if found[item.stem] is not None:
            continue
        question = question_create(
            actor=author,
            title=item.title,
            body=item.body,
            tags=item.tags,
            interview=_interview_of(item, ids),
            summary=f"{SUMMARY}: {item.stem}",
        )
        for answer_body in item.answers:
            answer_create(actor=author, question=question, body=answer_body, summary=SUMMARY)
        ids[item.stem] = question.pk
        new_items.append((item, question))
        report.created.append(item.title)

    # Follow-ups to files loaded after their question: one more revision, now that all have ids.
    for item, question in new_items:
        interview = _interview_of(item, ids)
        if interview["follow_ups"] != question.follow_ups:
            post_edit(actor=author, post=question, base_revision=question.revision_count,
                      body=question.body, interview=interview, summary=LINK_SUMMARY)  # fmt: skip

    for item in items:
        question = found[item.stem]
        if question is None:
            continue
        if not update:
            report.skipped.append(item.title)
            continue
        _update_question(item=item, question=question, ids=ids, author=author, report=report)
    return report


def _update_question(*, item, question, ids, author, report: StarterReport) -> None:
    question = Question.objects.annotate(tag_names=tag_names()).get(pk=question.pk)
    interview = _interview_of(item, ids)
    label = f"{item.stem}: {item.title}"
    if _question_matches(question, item, interview):
        report.unchanged.append(label)
    elif _only_system_revisions(question, author):
        post_edit(actor=author, post=question, base_revision=question.revision_count,
                  title=item.title, body=item.body, tags=item.tags, interview=interview,
                  summary=UPDATE_SUMMARY)  # fmt: skip
        report.updated.append(label)
    else:
        report.kept.append(label)
    starter_answers = list(
        Answer.objects.filter(question=question, author=author).order_by("created_at", "pk")
    )
    for number, body in enumerate(item.answers, start=1):
        answer_label = f"{label} (answer {number})"
        if number > len(starter_answers):
            answer_create(actor=author, question=question, body=body, summary=SUMMARY)
            report.updated.append(answer_label)
            continue
        answer = starter_answers[number - 1]
        if answer.body == body:
            report.unchanged.append(answer_label)
        elif _only_system_revisions(answer, author) and not answer.is_deleted:
            post_edit(actor=author, post=answer, base_revision=answer.revision_count, body=body,
                      summary=UPDATE_SUMMARY)  # fmt: skip
            report.updated.append(answer_label)
        else:
            report.kept.append(answer_label)
