"""What a member's reputation lets them do. Thresholds are rules in settings.MIANJING
(PRIVILEGE_<NAME>), scaled for a young community; moderators (the moderator group, or staff) hold
every privilege whatever their reputation.

`privileges_of(user)` lists them all for the profile page and /api/v1/me/; `has_privilege` is what
permission predicates ask.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kb.roles import is_moderator
from kb.rules import rule

UPVOTE = "upvote"
FLAG = "flag"
COMMENT = "comment"
CREATE_TAG = "create_tag"
DOWNVOTE = "downvote"
REVIEW_EDITS = "review_edits"
EDIT_DIRECTLY = "edit_directly"
CLOSE_VOTE = "close_vote"
MODERATE = "moderate"
IMPORT_ARTICLES = "import_articles"


@dataclass(frozen=True)
class Privilege:
    code: str
    label: str
    rule_name: str | None  # None: granted by the moderator group, not by reputation

    @property
    def threshold(self) -> int | None:
        return None if self.rule_name is None else int(rule(self.rule_name))


PRIVILEGES: tuple[Privilege, ...] = (
    Privilege(UPVOTE, _("Vote up"), "PRIVILEGE_UPVOTE"),
    Privilege(FLAG, _("Flag posts"), "PRIVILEGE_FLAG"),
    Privilege(COMMENT, _("Comment everywhere"), "PRIVILEGE_COMMENT"),
    Privilege(CREATE_TAG, _("Create new tags"), "PRIVILEGE_CREATE_TAG"),
    Privilege(DOWNVOTE, _("Vote down"), "PRIVILEGE_DOWNVOTE"),
    Privilege(REVIEW_EDITS, _("Review suggested edits"), "PRIVILEGE_REVIEW_EDITS"),
    Privilege(EDIT_DIRECTLY, _("Edit others' posts directly"), "PRIVILEGE_EDIT_DIRECTLY"),
    Privilege(CLOSE_VOTE, _("Vote to close and reopen"), "PRIVILEGE_CLOSE_VOTE"),
    Privilege(IMPORT_ARTICLES, _("Import articles of interview notes"), "PRIVILEGE_IMPORT"),
    Privilege(MODERATE, _("Moderator tools"), None),
)
_BY_CODE = {privilege.code: privilege for privilege in PRIVILEGES}


@dataclass(frozen=True)
class HeldPrivilege:
    code: str
    label: str
    threshold: int | None
    granted: bool


def threshold(code: str) -> int | None:
    """The reputation `code` needs (None for moderator-only privileges)."""
    return _BY_CODE[code].threshold


def has_privilege(user, code: str) -> bool:
    if not user.is_authenticated:
        return False
    if is_moderator(user):
        return True
    needed = _BY_CODE[code].threshold
    return needed is not None and user.reputation >= needed


def privileges_of(user) -> list[HeldPrivilege]:
    """Every privilege in ascending order of threshold (moderator tools last), each marked
    granted or not. At most one query (the moderator-group check, cached on the user)."""
    held = [
        HeldPrivilege(
            code=privilege.code,
            label=str(privilege.label),
            threshold=privilege.threshold,
            granted=has_privilege(user, privilege.code),
        )
        for privilege in PRIVILEGES
    ]
    return sorted(held, key=lambda p: (p.threshold is None, p.threshold or 0))
