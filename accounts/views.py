"""Account pages: sign up, log in (with the django-axes lockout page), profile settings and API
tokens. Password change and reset are Django's own views with our templates (see urls.py)."""

import math

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, translate_url
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.forms import ProfileForm, SignupForm, TokenCreateForm
from accounts.models import ApiToken, User
from accounts.services import profile_update, token_create, token_revoke, user_signup
from config.compression import never_compress
from kb.api_errors import error_body
from kb.forms import add_service_errors


def in_language(url: str, language: str) -> str:
    """`url` moved to `language` (`/x/` ↔ `/en/x/`); unchanged when it does not resolve."""
    if not language:
        return url
    with translation.override(translation.get_language_from_path(url) or settings.LANGUAGE_CODE):
        return translate_url(url, language)


def _with_language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("kb:home")


def language_choose(request: HttpRequest, language: str) -> HttpResponse:
    """The language switch: a plain link, not a form, so pages need no CSRF cookie for it. Keeps
    the choice in the language cookie and goes to `next` in that language."""
    if language not in dict(settings.LANGUAGES):
        raise Http404("unknown language")
    target = _safe_next(request)
    return _with_language_cookie(redirect(in_language(target, language)), language)


class LoginView(auth_views.LoginView):
    """Django's login; afterwards the member's preferred language applies."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().preferred_language
        if language:
            response["Location"] = in_language(response["Location"], language)
        return _with_language_cookie(response, language)


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes calls this (AXES_LOCKOUT_CALLABLE) once a username has failed too often from
    one address: say so, and say when to try again."""
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    retry_at = None
    if cool_off:
        last = AccessAttempt.objects.filter(
            username=username, ip_address=getattr(request, "axes_ip_address", None)
        ).aggregate(last=Max("attempt_time"))["last"]
        retry_at = (last or timezone.now()) + cool_off
    if request.path.startswith("/api/"):
        # The API answers in its JSON error shape, with Retry-After in seconds.
        body = error_body(
            "locked_out",
            _("Too many failed logins for this account from this address; try again later."),
        )
        if retry_at is not None:
            body["error"]["retry_at"] = retry_at.isoformat()
        response = JsonResponse(body, status=settings.AXES_HTTP_RESPONSE_CODE)
        seconds = (retry_at - timezone.now()).total_seconds() if retry_at else 3600
        response["Retry-After"] = str(max(1, math.ceil(seconds)))
        return response
    return render(
        request,
        "registration/lockout.html",
        {"username": username, "retry_at": retry_at, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("kb:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        next_url = _safe_next(request)
        try:
            # None when the address already has an account: its owner is mailed instead, and
            # the answer is the same as for a new account (no one learns which addresses exist).
            user_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                site_url=request.build_absolute_uri("/").rstrip("/"),
                next_url=next_url,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("accounts:signup_sent")
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


@require_safe
def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_sent.html")


@require_safe
def signup_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link in a new member's sign-up mail: logs them in, once, and goes on to `next`."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        messages.error(request, _("This link is used or no longer valid; log in instead."))
        return redirect("accounts:login")
    login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
    messages.success(request, _("Welcome, %(name)s! You are logged in.") % {"name": user.username})
    return redirect(_safe_next(request))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "display_name": user.display_name,
        "bio": user.bio,
        "preferred_language": user.preferred_language,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            language = user.preferred_language
            with translation.override(language or translation.get_language()):
                messages.success(request, _("Your profile is saved."))
            target = in_language(request.path, language)
            return _with_language_cookie(redirect(target), language)
    return render(request, "accounts/settings.html", {"form": form})


def _token_page(request: HttpRequest, form: TokenCreateForm, *, new_key: str = "") -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    response = render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
    )
    add_never_cache_headers(response)  # the new key is in this page, once
    return response


@login_required
@never_compress  # shows a new API token: no compression, no BREACH (config/compression.py)
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _token_page(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            _token, key = token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _token_page(request, TokenCreateForm(), new_key=key)
    return _token_page(request, form)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user, revoked_at__isnull=True)
    token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
