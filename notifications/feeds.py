"""Atom 1.0 feeds (Django's syndication framework): the newest questions, a tag's questions, a
question's answers and edits, a member's posts. Public: what an anonymous reader may see, in the
language of the URL (/en/feeds/… for English). Entries carry the stored, sanitised HTML."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from kb import markdown
from kb.models import Answer, Question, Revision, Tag
from kb.selectors.questions import answer_list, answer_list_by_author, question_get, question_list
from kb.templatetags.kb_pages import question_url
from kb.views.access import tag_or_404

ENTRIES = 30
REVISIONS_IN_QUESTION_FEED = 10
PUBLIC = AnonymousUser()


class _AtomFeed(Feed):
    feed_type = Atom1Feed

    def item_guid(self, item) -> str:
        return self.request.build_absolute_uri(self.item_link(item))

    def item_guid_is_permalink(self, item) -> bool:
        return True

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return getattr(item, "updated_at", item.created_at)

    def item_author_name(self, item) -> str:
        return item.author.shown_name

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)


class _QuestionEntries(_AtomFeed):
    def item_title(self, item: Question) -> str:
        return item.title

    def item_link(self, item: Question) -> str:
        return question_url(item)

    def item_description(self, item: Question) -> str:
        return item.body_html


def _with_body(questions):
    return questions.defer(None).select_related("author")[:ENTRIES]


class NewestQuestionsFeed(_QuestionEntries):
    def title(self) -> str:
        return _("Mianjing: newest questions")

    def link(self) -> str:
        return reverse("kb:home")

    def subtitle(self) -> str:
        return _("LLM and VLM interview questions")

    def items(self):
        return _with_body(question_list(viewer=PUBLIC, tab="newest"))


class TagFeed(_QuestionEntries):
    def get_object(self, request, name: str) -> Tag:
        return tag_or_404(name)

    def title(self, tag: Tag) -> str:
        return _("Mianjing: questions tagged %(tag)s") % {"tag": tag.name}

    def link(self, tag: Tag) -> str:
        return tag.get_absolute_url()

    def items(self, tag: Tag):
        return _with_body(question_list(viewer=PUBLIC, tab="newest").filter(tags=tag))


class QuestionFeed(_AtomFeed):
    """A question's answers and its edits, newest first."""

    def get_object(self, request, pk: int) -> Question:
        try:
            return question_get(viewer=PUBLIC, pk=pk)
        except Question.DoesNotExist as error:
            raise Http404 from error

    def title(self, question: Question) -> str:
        return _("Mianjing: answers and edits of “%(title)s”") % {"title": question.title}

    def link(self, question: Question) -> str:
        return question_url(question)

    def items(self, question: Question):
        answers = list(answer_list(viewer=PUBLIC, question=question)[:ENTRIES])
        revisions = list(
            Revision.objects.filter(question=question, status=Revision.Status.APPROVED)
            .select_related("author")
            .order_by("-number")[:REVISIONS_IN_QUESTION_FEED]
        )
        for item in (*answers, *revisions):
            item.feed_question = question
        entries = sorted((*answers, *revisions), key=lambda i: i.created_at, reverse=True)
        return entries[:ENTRIES]

    def item_title(self, item) -> str:
        if isinstance(item, Answer):
            return _("Answer by %(name)s") % {"name": item.author.shown_name}
        return _("Revision %(n)d: %(summary)s") % {
            "n": item.number,
            "summary": item.summary or item.title,
        }

    def item_link(self, item) -> str:
        if isinstance(item, Answer):
            return f"{question_url(item.feed_question)}#answer-{item.pk}"
        url = reverse("kb:question_history", kwargs={"pk": item.question_id})
        return f"{url}#revision-{item.number}"

    def item_description(self, item) -> str:
        if isinstance(item, Answer):
            return item.body_html
        return markdown.render(item.body)  # old revisions keep only their Markdown


class UserFeed(_AtomFeed):
    """A member's questions and answers, newest first."""

    def get_object(self, request, username: str):
        return get_object_or_404(get_user_model(), username=username)

    def title(self, member) -> str:
        return _("Mianjing: posts by %(name)s") % {"name": member.shown_name}

    def link(self, member) -> str:
        return reverse("kb:user_detail", kwargs={"username": member.username})

    def items(self, member):
        questions = list(_with_body(question_list(viewer=PUBLIC).filter(author=member)))
        answers = list(
            answer_list_by_author(viewer=PUBLIC, author=member)
            .defer(None)
            .select_related("author")[:ENTRIES]
        )
        return sorted((*questions, *answers), key=lambda i: i.created_at, reverse=True)[:ENTRIES]

    def item_title(self, item) -> str:
        if isinstance(item, Answer):
            return _("Answer to: %(title)s") % {"title": item.question.title}
        return item.title

    def item_link(self, item) -> str:
        if isinstance(item, Answer):
            return f"{question_url(item.question)}#answer-{item.pk}"
        return question_url(item)

    def item_description(self, item) -> str:
        return item.body_html
