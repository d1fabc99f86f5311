"""API representations (output). Writes validate an input serializer, then call a service."""

import copy

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kb import links
from kb.models import Answer, Comment, Question, Revision, Tag
from kb.privileges import privileges_of

User = get_user_model()


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer with its fields built once per class.

    DRF inspects the model to build a ModelSerializer's fields on every instance: about 1 ms
    each, and a question with its answers, authors and tags builds four. The fields depend only
    on the class (Meta), so they are built once and deep-copied, as DRF does for the declared
    fields of a plain Serializer."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)


class LinksMixin:
    """`url` (the object in the API) and `html_url` (its page), absolute, from SITE_URL."""

    def get_url(self, obj) -> str:
        return self.links(obj)[0]

    def get_html_url(self, obj) -> str:
        return self.links(obj)[1]


class UserSummarySerializer(LinksMixin, ModelSerializer):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    links = staticmethod(links.user_links)

    class Meta:
        model = User
        fields = ["username", "display_name", "reputation", "url", "html_url"]


class UserDetailSerializer(UserSummarySerializer):
    question_count = serializers.IntegerField(read_only=True)
    answer_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = User
        fields = UserSummarySerializer.Meta.fields + [
            "bio",
            "date_joined",
            "question_count",
            "answer_count",
        ]


class PrivilegeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    reputation = serializers.IntegerField(source="threshold", allow_null=True)
    granted = serializers.BooleanField()


class MeSerializer(UserDetailSerializer):
    is_moderator = serializers.BooleanField(read_only=True)
    privileges = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = UserDetailSerializer.Meta.fields + [
            "email",
            "preferred_language",
            "is_moderator",
            "privileges",
        ]

    @extend_schema_field(PrivilegeSerializer(many=True))
    def get_privileges(self, user) -> list[dict]:
        return PrivilegeSerializer(privileges_of(user), many=True).data


class TagSerializer(LinksMixin, ModelSerializer):
    aliases = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    links = staticmethod(links.tag_links)

    class Meta:
        model = Tag
        fields = ["name", "description", "question_count", "aliases", "url", "html_url"]

    def get_aliases(self, tag) -> list[str]:
        return [alias.name for alias in tag.aliases.all()]


class QuestionListSerializer(LinksMixin, ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(), source="tag_names", read_only=True)
    author = UserSummarySerializer(read_only=True)
    has_accepted_answer = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    links = staticmethod(links.question_links)

    class Meta:
        model = Question
        fields = [
            "id",
            "title",
            "url",
            "html_url",
            "tags",
            "author",
            "status",
            "score",
            "answer_count",
            "view_count",
            "has_accepted_answer",
            "accepted_answer_id",
            "created_at",
            "updated_at",
            "last_activity_at",
        ]

    def get_has_accepted_answer(self, question) -> bool:
        return question.accepted_answer_id is not None


class ProvenanceSerializer(serializers.Serializer):
    """Where an imported answer came from."""

    source_title = serializers.CharField()
    source_url = serializers.CharField()
    license = serializers.CharField()
    imported_at = serializers.DateTimeField(source="created_at")
    imported_by = serializers.CharField(source="actor.username")
    import_id = serializers.IntegerField(source="pk")


BODY_MARKDOWN_HELP = (
    "The Markdown source, the same text as `body` under Stack Exchange's name for it (consumers "
    "ask for `answers.body_markdown`); `body` stays for existing clients."
)


class AnswerSerializer(LinksMixin, ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    body_markdown = serializers.CharField(
        source="body", read_only=True, help_text=BODY_MARKDOWN_HELP
    )
    is_accepted = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    links = staticmethod(links.answer_links)
    provenance = ProvenanceSerializer(source="imported_from", read_only=True, allow_null=True)

    class Meta:
        model = Answer
        fields = [
            "id",
            "question_id",
            "url",
            "html_url",
            "body",
            "body_markdown",
            "body_html",
            "author",
            "score",
            "is_accepted",
            "is_deleted",
            "verification",
            "provenance",
            "revision_count",
            "created_at",
            "updated_at",
        ]

    def get_is_accepted(self, answer) -> bool:
        accepted_id = self.context.get("accepted_answer_id", answer.question.accepted_answer_id)
        return accepted_id == answer.pk


class FollowUpSerializer(serializers.Serializer):
    text = serializers.CharField()
    question_id = serializers.IntegerField(allow_null=True)


class QuestionDetailSerializer(QuestionListSerializer):
    answers = serializers.SerializerMethodField()
    key_points = serializers.ListField(child=serializers.CharField(), read_only=True)
    common_mistakes = serializers.ListField(child=serializers.CharField(), read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    duplicate_of = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    body_markdown = serializers.CharField(
        source="body", read_only=True, help_text=BODY_MARKDOWN_HELP
    )

    class Meta:
        model = Question
        fields = QuestionListSerializer.Meta.fields + [
            "body",
            "body_markdown",
            "body_html",
            "revision_count",
            "close_reason",
            "duplicate_of",
            "protected",
            "difficulty",
            "short_answer",
            "key_points",
            "common_mistakes",
            "follow_ups",
            "answers",
        ]

    def get_answers(self, question) -> list[dict]:
        context = {**self.context, "accepted_answer_id": question.accepted_answer_id}
        return AnswerSerializer(self.context["answers"], many=True, context=context).data


class RevisionSerializer(LinksMixin, ModelSerializer):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    links = staticmethod(links.revision_links)
    author = UserSummarySerializer(read_only=True)
    reviewer = UserSummarySerializer(read_only=True, allow_null=True)
    base_revision = serializers.SerializerMethodField()
    rollback_of = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = [
            "number",
            "url",
            "html_url",
            "title",
            "body",
            "tags",
            "difficulty",
            "short_answer",
            "key_points",
            "common_mistakes",
            "follow_ups",
            "author",
            "summary",
            "status",
            "base_revision",
            "rollback_of",
            "reviewer",
            "reviewed_at",
            "created_at",
        ]

    def get_base_revision(self, revision) -> int | None:
        return self.context["numbers"].get(revision.base_revision_id)

    def get_rollback_of(self, revision) -> int | None:
        return self.context["numbers"].get(revision.rollback_of_id)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(max_length=60, required=False, default="API")


class InterviewInputSerializer(serializers.Serializer):
    """The interview fields a question create or edit may send; kb.interview validates them."""

    difficulty = serializers.CharField(max_length=20, required=False, allow_blank=True)
    short_answer = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    key_points = serializers.ListField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        max_length=100,
        required=False,
    )
    common_mistakes = serializers.ListField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        max_length=100,
        required=False,
    )
    follow_ups = serializers.ListField(
        child=serializers.JSONField(), max_length=100, required=False
    )

    @staticmethod
    def interview_of(data: dict) -> dict:
        names = ("difficulty", "short_answer", "key_points", "common_mistakes", "follow_ups")
        return {name: data[name] for name in names if name in data}


class QuestionCreateSerializer(InterviewInputSerializer):
    title = serializers.CharField(max_length=1000, trim_whitespace=False)
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50)


class AnswerCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)


class PostEditSerializer(InterviewInputSerializer):
    """A PATCH: the changed fields, a summary and the revision number the edit started from."""

    base_revision = serializers.IntegerField(min_value=1)
    body = serializers.CharField(max_length=100_000, trim_whitespace=False, required=False)
    title = serializers.CharField(max_length=1000, trim_whitespace=False, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False
    )
    summary = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RollbackSerializer(serializers.Serializer):
    to = serializers.IntegerField(min_value=1)
    summary = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class CommentSerializer(LinksMixin, ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "question_id", "answer_id", "url", "html_url", "body", "body_html",
                  "author", "is_deleted", "created_at", "updated_at"]  # fmt: skip

    def links(self, comment) -> tuple[str, str]:
        """The page is the question's: the caller names it for a list of an answer's comments
        (`question_id` in the context); otherwise the comment's post is at hand."""
        question_id = comment.question_id or self.context.get("question_id")
        if question_id is None:
            question_id = comment.answer.question_id
        return links.comment_links(comment, question_id)


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000, trim_whitespace=False)


class EditResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["saved", "merged", "pending"])
    revision = RevisionSerializer()


class TokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The key. Shown this once; only its hash is stored.")


class CommentListSerializer(serializers.Serializer):
    results = CommentSerializer(many=True)


class TokenListSerializer(serializers.Serializer):
    results = ApiTokenSerializer(many=True)
