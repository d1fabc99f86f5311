"""Account forms: they read and type the input; the rules live in accounts.services."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

User = get_user_model()

# Django 5.2 reworded this validator message; its own Chinese catalog still has the old wording.
# Listed here so makemessages keeps our translation of it.
DJANGO_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        8,
    ),
)


class SignupForm(forms.Form):
    """Passwords are never sent back into the page (Django's practice); everything else is."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_(
            "Letters (Chinese too), digits and @ . + - _ only; shown in your profile address."
        ),  # fmt: skip
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        help_text=_("For password resets only; never shown."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("password") is not None
            and cleaned.get("password_again") is not None
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        required=False,
        help_text=_("Shown instead of your username; leave empty to show the username."),
        widget=forms.TextInput(attrs={"maxlength": 60}),
    )
    bio = forms.CharField(
        label=_("About you"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As the address says (Chinese by default)"))]
        + list(User._meta.get_field("preferred_language").choices),
        help_text=_("The site switches to it when you log in and when you save."),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=60,
        help_text=_("What the token is for, e.g. “laptop script”."),
    )
