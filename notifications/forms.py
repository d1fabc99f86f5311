from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import NotificationSettings


class NotificationSettingsForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("E-mail me about inbox items"),
        choices=NotificationSettings.EmailMode.choices,
        widget=forms.RadioSelect,
    )
    hide_ignored = forms.BooleanField(
        label=_("Hide questions in ignored tags (instead of greying them out)"), required=False
    )
    watched = forms.CharField(
        label=_("Watched tags"),
        required=False,
        help_text=_("Tag names separated by spaces or commas."),
    )
    ignored = forms.CharField(
        label=_("Ignored tags"),
        required=False,
        help_text=_("Tag names separated by spaces or commas."),
    )

    @staticmethod
    def names(value: str) -> list[str]:
        return [n for n in value.replace(",", " ").replace("，", " ").split() if n]


class ModeratorMessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
        help_text=_("The member reads it in their inbox; it is kept in the moderation log."),
    )
