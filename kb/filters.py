import django_filters
from django.db.models import Q

from kb.models import Question, Tag

TRUE_VALUES = {"true", "1"}


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """true/false (or 1/0). Anything else is a 400, never silently ignored."""

    def __init__(self, *args, **kwargs):
        choices = [(v, v) for v in ("true", "false", "1", "0")]
        super().__init__(*args, choices=choices, **kwargs)

    def filter(self, queryset, value):
        if value in ("", None):
            return queryset
        return super().filter(queryset, value in TRUE_VALUES)


class QuestionFilter(django_filters.FilterSet):
    """`?tag=rag&author=alice&status=open&has_accepted=true&answered=false
    &created_after=2025-01-01&created_before=…&updated_after=…&updated_before=…&updated_since=…
    &ordering=-score`"""

    tag = django_filters.CharFilter(method="filter_tag", label="tag name or alias")
    author = django_filters.CharFilter(field_name="author__username", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=Question.Status.choices)
    has_accepted = StrictBooleanFilter(
        field_name="accepted_answer", lookup_expr="isnull", exclude=True
    )
    answered = StrictBooleanFilter(method="filter_answered")
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")
    updated = django_filters.IsoDateTimeFromToRangeFilter(field_name="last_activity_at")
    updated_since = django_filters.IsoDateTimeFilter(
        method="filter_updated_since",
        label="edited or active at or after this time (ISO 8601)",
    )
    ordering = django_filters.OrderingFilter(
        fields=["created_at", "last_activity_at", "score", "answer_count", "view_count", "id"]
    )

    class Meta:
        model = Question
        fields: list[str] = []

    def filter_tag(self, queryset, name, value):
        """Comma-separated names or aliases; a question must carry every one of them."""
        for tag_name in filter(None, (part.strip() for part in value.split(","))):
            matching = Tag.objects.filter(
                Q(name__iexact=tag_name) | Q(aliases__name__iexact=tag_name)
            )
            queryset = queryset.filter(tags__in=matching.values("pk"))
        return queryset

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(Q(updated_at__gte=value) | Q(last_activity_at__gte=value))

    def filter_answered(self, queryset, name, value):
        # A method filter receives the raw choice ("true", "0", ...).
        if value in TRUE_VALUES:
            return queryset.filter(answer_count__gt=0)
        return queryset.filter(answer_count=0)
