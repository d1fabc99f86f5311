"""GET /api/v1/search/ and /api/v1/search/similar/: the same results and snippets as the page."""

from django.core.paginator import InvalidPage
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from kb.links import absolute, question_links
from kb.search import QUERY_MAX_LENGTH
from kb.selectors.search import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    SORTS,
    search,
    similar_question_list,
    similar_tag_list,
)

SIMILAR_TITLE_MAX_LENGTH = 300


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=1000, help_text="The query: words, \"phrase\", -word, "
                              "[tag], user:NAME, score:N, answers:N, is:question|answer, "
                              "accepted:yes|no, closed:yes|no, created:2025..2026.")  # fmt: skip
    sort = serializers.ChoiceField(choices=SORTS, default="relevance")
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, default=PAGE_SIZE)


class SearchHitSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["question", "answer"])
    id = serializers.IntegerField()
    question_id = serializers.IntegerField()
    title = serializers.CharField(help_text="The question's title.")
    title_html = serializers.CharField(help_text="The title, escaped, matches in <mark>.")
    snippet = serializers.CharField(help_text="Escaped HTML: a passage with matches in <mark>.")
    score = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="This question or answer in the API.")
    html_url = serializers.SerializerMethodField(help_text="Its page on the site.")
    matches_all_terms = serializers.BooleanField(
        help_text="True when the post has every word of the query; false for a partial match "
        "(listed after the complete ones, with the words it lacks in missing_terms) and for a "
        "question found only by a similar title."
    )
    missing_terms = serializers.ListField(
        child=serializers.CharField(),
        help_text="The query's words this partial match lacks (empty when it has them all).",
    )

    def get_url(self, hit) -> str:
        return absolute(hit.api_url)

    def get_html_url(self, hit) -> str:
        return absolute(hit.url)


class SearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    count_is_exact = serializers.BooleanField(
        help_text="False when more posts match than the results hold (relevance ranks a bounded "
        "number of candidates; newest and score stop at 500): count is then a lower bound."
    )
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    corrections = serializers.DictField(
        child=serializers.CharField(), help_text="Misspelt words and what was searched instead."
    )
    relaxed = serializers.BooleanField(
        help_text="Too few posts have every word: posts with some of them were added (each "
        "result says whether it matched every term)."
    )
    suggested_tags = serializers.ListField(
        child=serializers.CharField(), help_text="When nothing matched: tags to try instead."
    )
    results = SearchHitSerializer(many=True)


class SimilarQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.IntegerField()
    answer_count = serializers.IntegerField()
    has_accepted_answer = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()

    def get_has_accepted_answer(self, question) -> bool:
        return question.accepted_answer_id is not None

    def get_url(self, question) -> str:
        return question_links(question)[0]

    def get_html_url(self, question) -> str:
        return question_links(question)[1]


class SimilarResponseSerializer(serializers.Serializer):
    results = SimilarQuestionSerializer(many=True)
    tags = serializers.ListField(
        child=serializers.CharField(),
        help_text="Tags the title names, directly or through the concept lexicon (注意力机制: "
        "attention), for the ask form to suggest.",
    )


class SearchApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Search questions and answers",
        description=(
            "Chinese and English full-text search with Stack Exchange operators. Questions by "
            "default (their answers count as their text); `is:answer` searches answers. At most "
            f"1,000 results; queries longer than {QUERY_MAX_LENGTH} characters are cut."
        ),
        parameters=[SearchParamsSerializer],
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        page_size = min(data["page_size"], MAX_PAGE_SIZE)
        try:
            results = search(viewer=request.user, query=data["q"], sort=data["sort"],
                             page=data["page"], page_size=page_size, details=False)  # fmt: skip
        except InvalidPage as error:
            raise NotFound("Invalid page.") from error
        page = results.page
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, "page", page.next_page_number()) if (
            page.has_next()) else None  # fmt: skip
        previous_url = None
        if page.has_previous():
            number = page.previous_page_number()
            previous_url = (replace_query_param(url, "page", number) if number > 1
                            else remove_query_param(url, "page"))  # fmt: skip
        return Response(
            {
                "count": results.count,
                "count_is_exact": not results.truncated,
                "next": next_url,
                "previous": previous_url,
                "corrections": results.corrections,
                "relaxed": results.relaxed,
                "suggested_tags": results.suggested_tags,
                "results": SearchHitSerializer(results.hits, many=True).data,
            }
        )


class SimilarQuestionApi(APIView):
    """Questions that may already ask what a new title asks: for the ask form, while typing."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Similar questions for a title",
        parameters=[OpenApiParameter("title", str, description="The title being typed.")],
        responses=SimilarResponseSerializer,
    )
    def get(self, request):
        title = request.query_params.get("title", "")[:SIMILAR_TITLE_MAX_LENGTH].strip()
        questions = similar_question_list(viewer=request.user, title=title) if title else []
        tags = similar_tag_list(title=title) if title else []
        return Response(
            {"results": SimilarQuestionSerializer(questions, many=True).data, "tags": tags}
        )
