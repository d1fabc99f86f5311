"""Writes for accounts."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken

MAX_ACTIVE_TOKENS = 20


@transaction.atomic
def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new named API token. Returns the row and the key, which is never stored or shown again."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            {"name": _("At most %(n)d active tokens; revoke one first.") % {"n": MAX_ACTIVE_TOKENS}}
        )
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key),
                                    prefix=key[:8])  # fmt: skip
    return token, key


def token_revoke(*, actor, token: ApiToken) -> None:
    """Revoke (never delete) a token; only its owner may."""
    if token.user_id != actor.pk:
        raise PermissionDenied(_("Not your token."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
