"""Server-rendered read pages. Every read goes through a selector, which decides visibility."""

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from kb import markdown, seo
from kb.conditional import apply_validators, not_modified_or_none
from kb.diff import revision_changed_fields
from kb.forms import AnswerForm, CommentForm, RollbackForm
from kb.models import Answer, Question, Revision
from kb.permissions import (
    can_answer,
    can_comment,
    can_edit,
    can_verify,
    comment_delete_refusal,
    is_moderator,
    post_is_locked,
    rollback_refusal,
)
from kb.privileges import PRIVILEGES
from kb.selectors.comments import comments_for_question_page
from kb.selectors.keyset import keyset_after, keyset_cursor
from kb.selectors.questions import (
    QUESTION_TABS,
    answer_list,
    answer_list_by_author,
    duplicate_target,
    page_rows,
    question_get,
    question_is_deleted,
    question_list,
)
from kb.selectors.revisions import revision_list
from kb.selectors.search import RELATED_CACHE_SECONDS, related_question_list
from kb.selectors.tags import tag_concept
from kb.selectors.tags import tag_list as tag_list_select
from kb.selectors.users import user_directory
from kb.selectors.validators import thread_validator
from kb.selectors.votes import viewer_votes_attach
from kb.services import page_cache as page_versions
from kb.services.comments import comment_edit_window, comment_is_editable
from kb.services.views import question_view_record, visitor_key
from kb.templatetags.kb_pages import keyset_param, question_slug, question_url
from kb.views.access import answer_or_404, question_or_404, tag_or_404
from kb.views.page_cache import (
    FRAGMENT_HEADER,
    anonymous_page,
    depend,
    depend_on_users,
    expire_at,
    fragment_key,
    fragments_render,
)
from notifications.selectors import home_question_list

QUESTIONS_PER_PAGE = 30
USERS_PER_PAGE = 36
TAGS_PER_PAGE = 60
USER_POSTS_PER_PAGE = 15
TAG_ORDERS = ("popular", "name")


def _page(request: HttpRequest, items, *, per_page: int, param: str = "page") -> Page:
    """One page of `items`; a non-number gives the first page, a number past the end the last.
    A queryset's page reads its joined columns for the shown rows only (`page_rows`). With
    `?after=<cursor>` (`<name>_after` beside `<name>_page`) it is the page of rows older than the
    cursor's row, found from that row through the list's index (kb/selectors/keyset.py): deep
    pages cost what the first does. Either way the page knows its "older" cursor
    (`older_cursor`) for the next keyset link, and the page numbers stay."""
    paginator = Paginator(items, per_page)
    cursor = request.GET.get(keyset_param(param))
    after = keyset_after(items, cursor) if cursor and isinstance(items, QuerySet) else None
    if after is not None:
        page = paginator.page(1) if paginator.count else paginator.get_page(1)
        rows = list(after[: per_page + 1])
        page.object_list, page.keyset = rows[:per_page], True
        page.older_cursor = keyset_cursor(items, rows[per_page - 1]) if len(rows) > per_page else ""
        return page
    page = paginator.get_page(request.GET.get(param))
    page.keyset = False
    page.older_cursor = ""
    if isinstance(items, QuerySet) and page.paginator.count:
        page.object_list = page_rows(items, page.object_list)
        if page.has_next() and page.object_list:
            page.older_cursor = keyset_cursor(items, page.object_list[-1]) or ""
    return page


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", "newest")
    return tab if tab in QUESTION_TABS else "newest"


def _depend_on_list(request: HttpRequest, page: Page | None) -> None:
    depend(request, page_versions.LIST)
    if page is not None:
        depend_on_users(request, {question.author_id for question in page.object_list})


@require_safe
@anonymous_page
def home(request: HttpRequest) -> HttpResponse:
    questions, tab, tabs = home_question_list(viewer=request.user, tab=request.GET.get("tab"))
    page = _page(request, questions, per_page=QUESTIONS_PER_PAGE)
    _depend_on_list(request, page)
    return render(
        request,
        "kb/question_list.html",
        {"page": page, "tab": tab, "tabs": tabs},
    )


def _count_view(request: HttpRequest, pk: str, slug: str | None = None) -> None:
    question_view_record(question_id=int(pk), visitor=visitor_key(request))


@require_safe
@anonymous_page(on_hit=_count_view, timeout=RELATED_CACHE_SECONDS)
def question_detail(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    # Anonymous readers get ETag/Last-Modified and a 304 before anything is read but the
    # thread's validator (members' pages show their own votes and controls).
    validator = thread_validator(question_id=int(pk)) if not request.user.is_authenticated else None
    not_modified, validators = not_modified_or_none(request, validator, variant="html")
    if not_modified is not None:
        question_view_record(question_id=int(pk), visitor=visitor_key(request))
        return not_modified
    try:
        question = question_get(viewer=request.user, pk=int(pk))
    except Question.DoesNotExist as error:
        # Deleted for good reasons and not coming back: 410 tells search engines to drop it
        # sooner than a 404 (which a question hidden by flags, still under review, gets).
        if question_is_deleted(pk=int(pk)):
            return render(request, "410.html", status=410)
        raise Http404 from error
    canonical_slug = question_slug(question.title)
    if slug is not None and slug != canonical_slug:
        return redirect(question_url(question), permanent=True)
    question_view_record(question_id=question.pk, visitor=visitor_key(request))
    response = question_page(request, question)
    if validators is not None:
        apply_validators(response, *validators)
    return response


def _shown(post: Question | Answer) -> tuple:
    """Everything a post's blocks show, as read for this page: the body, tags or source, edit
    count, time, and the author's (and importer's) name and reputation."""
    author = post.author
    shown = (
        type(post).__name__,
        post.pk,
        post.body_html,
        post.revision_count,
        post.created_at.isoformat(),
        author.username,
        author.shown_name,
        author.reputation,
    )
    if isinstance(post, Question):
        return (*shown, tuple(post.tag_names))
    if post.imported_from_id:
        source = post.imported_from
        return (*shown, source.source_title, source.source_url, source.license,
                source.created_at.isoformat(), source.actor.shown_name)  # fmt: skip
    return shown


def post_blocks_attach(request: HttpRequest, question: Question, answers: list[Answer]) -> str:
    """Each post's viewer-independent blocks (`body_block`: the body with its tags or source;
    `byline_block`: the edit count and the author card) from the fragment cache, in one cache
    read for the page. A block's key is a digest of everything it shows, as read for this page
    (`_shown`), the language and the time zone: the same rows always give the same block, so a
    block can never be stale, whatever wrote the rows, and votes or view counts (shown outside
    the blocks) leave the blocks cached. What is per viewer (votes, edit links, moderation tools,
    comment controls) stays outside, decided by the rulebook on every request. Returns
    "found/blocks" for the X-Fragment-Cache header."""
    posts = [question, *answers]
    zone = timezone.get_current_timezone_name()
    blocks = {}
    for post in posts:
        shown = (zone, *_shown(post))
        context = {"post": post, "is_question": isinstance(post, Question)}
        post.body_key = fragment_key("post-body", *shown)
        post.byline_key = fragment_key("post-byline", *shown)
        blocks[post.body_key] = ("kb/includes/_post_body.html", context)
        blocks[post.byline_key] = ("kb/includes/_post_byline.html", context)
    html, found = fragments_render(blocks, store=True)
    for post in posts:
        post.body_block, post.byline_block = html[post.body_key], html[post.byline_key]
    return f"{found}/{len(blocks)}"


def _comment_key(post: Question | Answer) -> str:
    return f"{'question' if isinstance(post, Question) else 'answer'}-{post.pk}"


def question_page(
    request: HttpRequest,
    question: Question,
    *,
    answer_form: AnswerForm | None = None,
    answer_preview: str = "",
    failed_comment: tuple[Question | Answer, CommentForm] | None = None,
) -> HttpResponse:
    """The question page; the answer and comment views render it again, with their bound form
    and its errors, when the input is refused, so nothing typed is lost."""
    viewer = request.user
    answers = list(answer_list(viewer=viewer, question=question))
    viewer_votes_attach(viewer=viewer, question=question, answers=answers)
    comments = comments_for_question_page(viewer=viewer, question=question)
    failed_key = _comment_key(failed_comment[0]) if failed_comment else None
    for post in (question, *answers):
        if isinstance(post, Answer):
            post.question = question  # the permission checks below read it: no query per answer
        key = _comment_key(post)
        post.viewer_can_edit = can_edit(viewer, post)
        if isinstance(post, Answer):
            post.viewer_can_verify = can_verify(viewer, post)
        post.viewer_can_comment = can_comment(viewer, post)
        post.comment_list = comments["question" if isinstance(post, Question) else "answer"].get(
            post.pk, []
        )
        expire_at(request, post.locked_until)
        for comment in post.comment_list:
            comment.viewer_can_edit = comment_is_editable(actor=viewer, comment=comment)
            if comment.viewer_can_edit and comment.author_id == viewer.pk:
                expire_at(request, comment.created_at + comment_edit_window())
            comment.viewer_can_delete = (
                not comment.is_deleted and comment_delete_refusal(viewer, comment) is None
            )
        if post.viewer_can_comment:
            post.comment_form = (
                failed_comment[1] if key == failed_key else CommentForm(auto_id=f"id_{key}_%s")
            )
    blocks_found = post_blocks_attach(request, question, answers)
    may_answer = can_answer(viewer, question)
    duplicate_of = duplicate_target(viewer=viewer, question=question)
    related_questions = related_question_list(viewer=viewer, question=question)
    shown = [*related_questions, *([duplicate_of] if duplicate_of else [])]
    shown_ids = {question.pk, *(shown_question.pk for shown_question in shown)}
    depend(request, *(page_versions.question_key(pk) for pk in shown_ids))
    depend_on_users(
        request,
        {question.author_id}
        | {answer.author_id for answer in answers}
        | {c.author_id for group in comments.values() for cs in group.values() for c in cs},
    )
    response = render(
        request,
        "kb/question_detail.html",
        {
            "question": question,
            "answers": answers,
            "duplicate_of": duplicate_of,
            "related_questions": related_questions,
            "is_locked": post_is_locked(question),
            # For search engines and link previews (kb/seo.py); no query.
            "canonical_path": question_url(question),
            "og_type": "article",
            "description": seo.description(question.body_html) or question.title,
            "qa_page_json_ld": seo.json_ld(data)
            if (data := seo.qa_page(request, question, answers))
            else "",
            "uses_code": may_answer
            or any('class="highlight"' in post.body_html for post in (question, *answers)),
            "can_answer": may_answer,
            "answer_form": (answer_form or AnswerForm()) if may_answer else None,
            "answer_preview": answer_preview,
        },
    )
    response[FRAGMENT_HEADER] = blocks_found
    return response


def _revisions_with_html(revisions: QuerySet) -> list:
    """Revisions with their Markdown rendered for reading (the stored HTML is only the newest)."""
    revisions = list(revisions)
    for revision in revisions:
        revision.body_html = markdown.render(revision.body)
    return revisions


def _history_page(
    request: HttpRequest, post: Question | Answer, question: Question
) -> HttpResponse:
    revisions = _revisions_with_html(revision_list(viewer=request.user, post=post))
    is_question = isinstance(post, Question)
    may_roll_back = rollback_refusal(request.user, post) is None
    for revision in revisions:
        revision.can_roll_back_to = (
            may_roll_back
            and revision.status == Revision.Status.APPROVED
            and revision.number != post.revision_count
        )
        if revision.can_roll_back_to:
            revision.rollback_form = RollbackForm(
                initial={"to": revision.number}, auto_id=f"id_rollback_{revision.number}_%s"
            )
    by_number = {revision.number: revision for revision in revisions}
    for revision in revisions:  # what each changed from the one before (as its diff link does)
        previous = by_number.get(revision.number - 1)
        revision.changed_fields = revision_changed_fields(previous, revision) if previous else []
    prefix = "question" if is_question else "answer"
    return render(
        request,
        "kb/revision_list.html",
        {
            "post": post,
            "question": question,
            "revisions": revisions,
            "is_question": is_question,
            "numbers": [revision.number for revision in revisions],
            "diff_url": reverse(f"kb:{prefix}_diff", kwargs={"pk": post.pk}),
            "rollback_url": reverse(f"kb:{prefix}_rollback", kwargs={"pk": post.pk}),
        },
    )


@require_safe
def question_history(request: HttpRequest, pk: int) -> HttpResponse:
    question = question_or_404(request, pk)
    return _history_page(request, question, question)


@require_safe
def answer_history(request: HttpRequest, pk: int) -> HttpResponse:
    answer = answer_or_404(request, pk)
    return _history_page(request, answer, answer.question)


@require_safe
@anonymous_page
def tag_list(request: HttpRequest) -> HttpResponse:
    order = request.GET.get("sort", "popular")
    if order not in TAG_ORDERS:
        order = "popular"
    page = _page(request, tag_list_select(order=order), per_page=TAGS_PER_PAGE)
    _depend_on_list(request, None)
    return render(request, "kb/tag_list.html", {"page": page, "sort": order})


@require_safe
@anonymous_page
def tag_detail(request: HttpRequest, name: str) -> HttpResponse:
    tag = tag_or_404(name)
    if tag.name != name:  # an alias or another spelling: send readers to the tag's own page
        return redirect(tag, permanent=True)
    tab = _tab(request)
    questions = question_list(viewer=request.user, tab=tab).filter(tags=tag)
    page = _page(request, questions, per_page=QUESTIONS_PER_PAGE)
    _depend_on_list(request, page)
    return render(
        request,
        "kb/tag_detail.html",
        {
            "tag": tag,
            "concept": tag_concept(tag=tag),
            "page": page,
            "tab": tab,
            "tabs": QUESTION_TABS,
        },
    )


@require_safe
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = _page(request, user_directory(query=query), per_page=USERS_PER_PAGE)
    return render(request, "kb/user_list.html", {"page": page, "user_query": query.strip()})


HELP_TOPICS = ("about", "how-to-ask", "how-to-answer", "privileges")


@require_safe
def help_page(request: HttpRequest, topic: str) -> HttpResponse:
    """Help in the page's language: one template per topic and language, since it is prose."""
    if topic not in HELP_TOPICS:
        raise Http404
    language = "en" if get_language() == "en" else "zh-hans"
    return render(
        request,
        f"kb/help/{topic}.{language}.html",
        {"topic": topic, "topics": HELP_TOPICS, "privileges": PRIVILEGES},
    )


@require_safe
@anonymous_page
def user_detail(request: HttpRequest, username: str) -> HttpResponse:
    member = get_object_or_404(get_user_model(), username__iexact=username)
    if member.username != username:
        return redirect("kb:user_detail", username=member.username, permanent=True)
    # Its lists show questions and answers; the rest is the member's own (name, reputation).
    depend(request, page_versions.LIST, page_versions.user_key(member.pk))
    questions = question_list(viewer=request.user, tab="newest").filter(author=member)
    answers = answer_list_by_author(viewer=request.user, author=member)
    return render(
        request,
        "kb/user_detail.html",
        {
            "member": member,
            "role": "staff" if member.is_staff else "moderator" if is_moderator(member) else "",
            "question_page": _page(
                request, questions, per_page=USER_POSTS_PER_PAGE, param="questions_page"
            ),
            "answer_page": _page(
                request, answers, per_page=USER_POSTS_PER_PAGE, param="answers_page"
            ),
        },
    )
