"""The audit log's vocabulary (every action and the words pages show for it) and how a lock is
stored. Pure names and helpers: the services that write the log, the selectors and the template
tags that read it all import them from here.

A lock is not a ModerationAction row: it is the post's own `locked_until` column
(LOCKED_INDEFINITELY when a moderator gave no expiry); the log only records that it happened.
"""

from datetime import UTC, datetime

from django.utils.translation import gettext_lazy

LOCKED_INDEFINITELY = datetime(9999, 12, 31, tzinfo=UTC)

# Every action the log knows, with the words the timeline and the log page show.
ACTIONS = {
    "edit_approve": gettext_lazy("suggested edit approved"),
    "edit_reject": gettext_lazy("suggested edit rejected"),
    "edit_improve": gettext_lazy("suggested edit improved and approved"),
    "edit_review_vote": gettext_lazy("suggested edit reviewed"),
    "edit_superseded": gettext_lazy("suggested edit superseded"),
    "flag_create": gettext_lazy("flagged"),
    "flags_helpful": gettext_lazy("flags marked helpful"),
    "flags_declined": gettext_lazy("flags declined"),
    "flags_corrected": gettext_lazy("flagged problem corrected"),
    "hidden_by_flags": gettext_lazy("hidden by flags"),
    "close_vote": gettext_lazy("voted to close"),
    "reopen_vote": gettext_lazy("voted to reopen"),
    "close_vote_withdraw": gettext_lazy("close vote withdrawn"),
    "reopen_vote_withdraw": gettext_lazy("reopen vote withdrawn"),
    "question_close": gettext_lazy("closed"),
    "question_reopen": gettext_lazy("reopened"),
    "merged_into": gettext_lazy("merged into another question"),
    "merged_from": gettext_lazy("answers merged in from a duplicate"),
    "post_lock": gettext_lazy("locked"),
    "post_unlock": gettext_lazy("unlocked"),
    "question_protect": gettext_lazy("protected"),
    "question_unprotect": gettext_lazy("unprotected"),
    "post_delete": gettext_lazy("deleted"),
    "post_undelete": gettext_lazy("undeleted"),
    "comment_delete": gettext_lazy("comment deleted"),
    "comment_undelete": gettext_lazy("comment undeleted"),
    "user_suspend": gettext_lazy("member suspended"),
    "user_unsuspend": gettext_lazy("suspension lifted"),
    "reputation_grant": gettext_lazy("reputation granted"),
    "article_import": gettext_lazy("article imported"),
    "article_import_undo": gettext_lazy("article import undone"),
    "answer_verify": gettext_lazy("imported answer verified"),
}


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def lock_is_indefinite(post) -> bool:
    return post.locked_until is not None and post.locked_until >= LOCKED_INDEFINITELY
