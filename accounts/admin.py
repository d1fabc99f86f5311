from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import ApiToken, ReputationEvent, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "email", "reputation", "is_staff", "date_joined"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Mianjing", {"fields": ["display_name", "bio", "preferred_language", "reputation",
                                 "is_system", "suspended_until"]}),
    )  # fmt: skip
    readonly_fields = ["reputation"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReputationEvent)
class ReputationEventAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "amount", "created_at"]
    raw_id_fields = ["user", "question", "answer", "vote", "reverses"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]
    raw_id_fields = ["user"]
