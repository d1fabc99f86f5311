from datetime import UTC, timedelta

import django_filters
from django import forms
from django.db.models import Count, Exists, F, Func, Q, Subquery
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget

from kb.models import Question, Tag, TagAlias
from kb.rules import rule
from kb.services.tags import TAG_NAME_MAX_LENGTH

# PostgreSQL accepts time-zone offsets up to ±15:59; Python's datetime up to ±23:59.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time PostgreSQL can compare: the offset within ±15:59 and the instant,
    in UTC, within years 1..9999. Anything else is a form error (400), never a 500."""

    def to_python(self, value):
        try:
            parsed = super().to_python(value)
            if parsed is not None:
                offset = parsed.utcoffset()
                if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                    raise OverflowError
                parsed.astimezone(UTC)  # OverflowError past year 1 or 9999
        except OverflowError as error:
            raise forms.ValidationError(
                _("Enter a date and time between years 1 and 9999, with a time-zone offset "
                  "within ±15:59."),
                code="invalid",
            ) from error  # fmt: skip
        return parsed


class BoundedIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        fields = (BoundedIsoDateTimeField(), BoundedIsoDateTimeField())
        super().__init__(fields, *args, **kwargs)


class BoundedIsoDateTimeFromToRangeFilter(django_filters.RangeFilter):
    field_class = BoundedIsoDateTimeRangeField


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class TagListField(forms.CharField):
    """Comma-separated tag names or aliases: at most MAX_TAGS (like a post), each a tag name's
    length at most."""

    def to_python(self, value):
        value = super().to_python(value)
        names = list(dict.fromkeys(" ".join(p.split()).lower() for p in value.split(",")))
        names = [name for name in names if name]
        max_tags = rule("MAX_TAGS")
        if len(names) > max_tags:
            raise forms.ValidationError(
                _("Filter by at most %(max)d tags.") % {"max": max_tags}, code="too_many"
            )
        if any(len(name) > TAG_NAME_MAX_LENGTH for name in names):
            raise forms.ValidationError(
                _("A tag name is at most %(max)d characters.") % {"max": TAG_NAME_MAX_LENGTH}
            )
        return names


class TagListFilter(django_filters.CharFilter):
    field_class = TagListField


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

    tag = TagListFilter(method="filter_tag", label="tag names or aliases, comma-separated (≤ 5)")
    author = django_filters.CharFilter(field_name="author__username", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=Question.Status.choices)
    has_accepted = StrictBooleanFilter(
        field_name="accepted_answer", lookup_expr="isnull", exclude=True
    )
    answered = StrictBooleanFilter(method="filter_answered")
    created = BoundedIsoDateTimeFromToRangeFilter(field_name="created_at")
    updated = BoundedIsoDateTimeFromToRangeFilter(field_name="last_activity_at")
    updated_since = BoundedIsoDateTimeFilter(
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
        """Questions carrying every named tag (a name or an alias, case-insensitive), in one
        query whatever the number of names (at most MAX_TAGS), with no join per tag: the
        question's rows among the named tags must cover every distinct tag named, and each name
        must name a tag (an indexed EXISTS per name)."""
        if not value:
            return queryset
        tags = Tag.objects.annotate(lname=Lower("name"))
        aliases = TagAlias.objects.annotate(lname=Lower("name"))
        wanted = tags.filter(
            Q(lname__in=value) | Q(pk__in=aliases.filter(lname__in=value).values("tag_id"))
        )
        wanted_count = wanted.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
        carrying = (
            Question.tags.through.objects.filter(tag__in=wanted.values("pk"))
            .values("question_id")
            .annotate(carried=Count("tag_id", distinct=True))
            .filter(carried=Subquery(wanted_count))
            .values("question_id")
        )
        for tag_name in value:
            queryset = queryset.filter(
                Exists(tags.filter(lname=tag_name)) | Exists(aliases.filter(lname=tag_name))
            )
        return queryset.filter(pk__in=carrying)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(Q(updated_at__gte=value) | Q(last_activity_at__gte=value))

    def filter_answered(self, queryset, name, value):
        # A method filter receives the raw choice ("true", "0", ...).
        if value in TRUE_VALUES:
            return queryset.filter(answer_count__gt=0)
        return queryset.filter(answer_count=0)
