from django.contrib import admin

from kb.models import Answer, Comment, Flag, ModerationAction, Question, Revision, Tag, TagAlias


class NoDeleteAdmin(admin.ModelAdmin):
    """Nothing is hard-deleted: deletion is a status change made through the services."""

    def has_delete_permission(self, request, obj=None):
        return False


class TagAliasInline(admin.TabularInline):
    model = TagAlias
    extra = 1


@admin.register(Tag)
class TagAdmin(NoDeleteAdmin):
    list_display = ["name", "question_count", "created_at"]
    search_fields = ["name", "aliases__name"]
    inlines = [TagAliasInline]


@admin.register(Question)
class QuestionAdmin(NoDeleteAdmin):
    list_display = ["id", "title", "author", "status", "score", "answer_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["author", "accepted_answer", "duplicate_of"]
    readonly_fields = ["body_html", "renderer_version", "revision_count"]


@admin.register(Answer)
class AnswerAdmin(NoDeleteAdmin):
    list_display = ["id", "question", "author", "score", "is_deleted", "created_at"]
    raw_id_fields = ["question", "author"]
    readonly_fields = ["body_html", "renderer_version", "revision_count"]


@admin.register(Revision)
class RevisionAdmin(NoDeleteAdmin):
    """Revisions are append-only: the admin shows them, it does not change them."""

    list_display = ["id", "question", "answer", "number", "author", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["question", "answer", "author", "base_revision", "rollback_of", "reviewer"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Comment)
class CommentAdmin(NoDeleteAdmin):
    list_display = ["id", "author", "question", "answer", "is_deleted", "created_at"]
    raw_id_fields = ["question", "answer", "author"]


@admin.register(Flag)
class FlagAdmin(NoDeleteAdmin):
    list_display = ["id", "user", "reason", "status", "created_at"]
    list_filter = ["reason", "status"]
    raw_id_fields = ["user", "question", "answer", "comment", "handled_by"]


@admin.register(ModerationAction)
class ModerationActionAdmin(NoDeleteAdmin):
    list_display = ["id", "actor", "action", "question", "answer", "created_at"]
    raw_id_fields = ["actor", "question", "answer", "comment", "target_user"]
