"""Server-rendered pages. (Being built: the read pages issue fills these in.)"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from kb.models import Question


def home(request):
    titles = (
        Question.objects.exclude(status="deleted")
        .order_by("-created_at")
        .values_list("title", flat=True)[:30]
    )
    return HttpResponse("\n".join(titles), content_type="text/plain; charset=utf-8")


def question_detail(request, pk, slug=None):
    question = get_object_or_404(Question.objects.exclude(status="deleted"), pk=pk)
    return HttpResponse(question.body_html)


def _not_yet(request, *args, **kwargs):
    raise Http404


question_history = answer_history = tag_list = tag_detail = user_detail = search = _not_yet
