from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import ApiToken, ReputationEvent, User
from kb.permissions import is_moderator
from kb.services.reputation import reputation_grant


class GrantReputationForm(ActionForm):
    """The action bar's extra fields, used by the "grant reputation" action."""

    amount = forms.IntegerField(required=False, label="Reputation")
    reason = forms.CharField(required=False, max_length=200, label="Reason")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    action_form = GrantReputationForm
    actions = ["grant_reputation"]
    list_display = ["username", "display_name", "email", "reputation", "is_staff", "date_joined"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Mianjing", {"fields": ["display_name", "bio", "preferred_language", "reputation",
                                 "is_system", "suspended_until"]}),
    )  # fmt: skip
    readonly_fields = ["reputation"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_grant_reputation_permission(self, request) -> bool:
        return is_moderator(request.user)

    @admin.action(
        description="Grant reputation (amount and reason above) to the selected users",
        permissions=["grant_reputation"],
    )
    def grant_reputation(self, request, queryset):
        """A bonus event in each selected user's ledger, through the same service as the
        grant_reputation command; all or none."""
        form = GrantReputationForm(request.POST)
        form.is_valid()
        amount, reason = form.cleaned_data.get("amount"), form.cleaned_data.get("reason", "")
        try:
            with transaction.atomic():
                for user in queryset.order_by("pk"):
                    reputation_grant(actor=request.user, user=user, amount=amount, reason=reason)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, f"Granted {amount:+d} to {queryset.count()} users.")


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
