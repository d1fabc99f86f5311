"""Writes for accounts."""

from urllib.parse import urlencode

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
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


def _signup_mail(*, user: User, site_url: str, known: bool, next_url: str) -> None:
    """The sign-up's mail: to a new member, the link that logs them in the first time; to the
    owner of an address someone signed up with again, a note and a link to reset the password
    (the sign-up page answers the same either way, so it tells nobody which addresses exist)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    if known:
        link = site_url + reverse("accounts:password_reset_confirm", args=[uid, token])
        template = "registration/signup_known_email.txt"
    else:
        link = site_url + reverse("accounts:signup_confirm", args=[uid, token])
        if next_url:
            link += "?" + urlencode({"next": next_url})
        template = "registration/signup_email.txt"
    with translation.override(user.preferred_language or translation.get_language()):
        subject = _("Mianjing: your sign-up")
        body = render_to_string(template, {"user": user, "link": link})
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def user_signup(
    *, username: str, email: str, password: str, site_url: str = "", next_url: str = ""
) -> User | None:
    """A new member. The username may be Chinese; it and the email are unique case-insensitively;
    the password must pass AUTH_PASSWORD_VALIDATORS. The new member gets a mail whose link logs
    them in (`site_url` is the site's scheme and host, `next_url` where the link leads after).

    An address that already has an account creates nothing: its owner gets a mail instead (someone
    tried to sign up with it; reset the password here), and None is returned, so the caller can
    answer exactly as for a new sign-up."""
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
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    owner = User.objects.filter(email__iexact=email).first()
    if owner is not None:
        transaction.on_commit(
            lambda: _signup_mail(user=owner, site_url=site_url, known=True, next_url="")
        )
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as error:  # the same name signed up a moment ago
        raise ValidationError({"username": [_("This username is taken.")]}) from error
    transaction.on_commit(
        lambda: _signup_mail(user=user, site_url=site_url, known=False, next_url=next_url)
    )
    return user


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
