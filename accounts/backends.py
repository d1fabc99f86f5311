"""Sign in with the user name or the e-mail address, either in any letter case."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class UsernameOrEmailBackend(ModelBackend):
    """Django's ModelBackend, finding the account by user name or e-mail, case-insensitively.

    User names are unique case-insensitively (a database constraint) and sign-up keeps e-mail
    addresses unique the same way; a name matches before an address, so a member whose user name
    looks like someone else's address still signs in as themselves.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        login = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not login or password is None:
            return None
        login = login.strip()
        candidates = list(
            User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login))[:3]
        )
        by_name = [user for user in candidates if user.username.lower() == login.lower()]
        matches = by_name or candidates
        if len(matches) != 1:
            # Two accounts sharing an address (made before addresses were unique): neither.
            User().set_password(password)  # same work as a real check, so timing says nothing
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request, credentials) -> str:
    """The name django-axes counts failures under (AXES_USERNAME_CALLABLE): the account's own
    user name whichever way it was typed, so "Zhang", "zhang" and the e-mail share one count."""
    typed = ""
    if credentials:
        typed = credentials.get("username") or ""
    elif request is not None:
        typed = request.POST.get("username", "")
    typed = typed.strip().lower()
    if not typed:
        return ""
    User = get_user_model()
    names = list(
        User.objects.filter(Q(username__iexact=typed) | Q(email__iexact=typed)).values_list(
            "username", flat=True
        )[:3]
    )
    exact = [name for name in names if name.lower() == typed]
    if exact:
        return exact[0].lower()
    return names[0].lower() if len(names) == 1 else typed
