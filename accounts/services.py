"""Writes for accounts."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
from kb.services import page_cache

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


@transaction.atomic
def user_signup(*, username: str, email: str, password: str) -> User:
    """A new member. The username may be Chinese; it and the email are unique case-insensitively;
    the password must pass AUTH_PASSWORD_VALIDATORS."""
    errors: dict[str, list[str]] = {}
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    candidate = User(username=username, email=email)
    for field, check in (
        ("username", lambda: User._meta.get_field("username").clean(username, candidate)),
        ("email", lambda: validate_email(email)),
    ):
        try:
            check()
        except ValidationError as error:
            errors[field] = error.messages
    if "username" not in errors and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    if "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("An account with this email address exists; log in or reset its "
                             "password.")]  # fmt: skip
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as error:  # the same name signed up a moment ago
        raise ValidationError({"username": [_("This username is taken.")]}) from error


def profile_update(*, actor, display_name: str, bio: str, preferred_language: str) -> User:
    """Change the profile fields of `actor` (only their own)."""
    display_name = " ".join(display_name.split())
    bio = bio.replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    limits = {"display_name": (display_name, 60), "bio": (bio, 2000)}
    for field, (value, high) in limits.items():
        if "\x00" in value:
            errors[field] = _("Text may not contain NUL characters.")
        elif len(value) > high:
            errors[field] = _("At most %(high)d characters (it is %(n)d).") % {
                "high": high,
                "n": len(value),
            }
    languages = {code for code, _name in User._meta.get_field("preferred_language").choices}
    if preferred_language and preferred_language not in languages:
        errors["preferred_language"] = _("Unknown language.")
    if errors:
        raise ValidationError(errors)
    actor.display_name, actor.bio, actor.preferred_language = display_name, bio, preferred_language
    actor.save(update_fields=["display_name", "bio", "preferred_language"])
    page_cache.users_changed([actor.pk])
    return actor
