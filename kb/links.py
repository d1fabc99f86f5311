"""Absolute addresses for the API's `url` (the object in the API) and `html_url` (its page), so
data taken out of the API can cite its source. Built from settings.SITE_URL, not from the request:
a mirror or a dataset keeps the site's public address whoever fetched it and however."""

from django.conf import settings

from kb.templatetags.kb_pages import cached_reverse, question_url


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def question_links(question) -> tuple[str, str]:
    return absolute(f"/api/v1/questions/{question.pk}/"), absolute(question_url(question))


def answer_links(answer) -> tuple[str, str]:
    page = cached_reverse("kb:question_detail", pk=answer.question_id)
    return absolute(f"/api/v1/answers/{answer.pk}/"), absolute(f"{page}#answer-{answer.pk}")


def comment_links(comment, question_id: int) -> tuple[str, str]:
    page = cached_reverse("kb:question_detail", pk=question_id)
    return absolute(f"/api/v1/comments/{comment.pk}/"), absolute(f"{page}#comment-{comment.pk}")


def tag_links(tag) -> tuple[str, str]:
    return (
        absolute(cached_reverse("api:tag_detail", name=tag.name)),
        absolute(cached_reverse("kb:tag_detail", name=tag.name)),
    )


def user_links(user) -> tuple[str, str]:
    return (
        absolute(cached_reverse("api:user_detail", username=user.username)),
        absolute(cached_reverse("kb:user_detail", username=user.username)),
    )


def revision_links(revision) -> tuple[str, str]:
    if revision.answer_id:
        api = cached_reverse("api:answer_revision", pk=revision.answer_id, number=revision.number)
        page = cached_reverse("kb:answer_history", pk=revision.answer_id)
    else:
        api = cached_reverse("api:question_revision", pk=revision.question_id,
                             number=revision.number)  # fmt: skip
        page = cached_reverse("kb:question_history", pk=revision.question_id)
    return absolute(api), absolute(page)
