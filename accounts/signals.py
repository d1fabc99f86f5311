"""Changes to members made outside the services (the admin, a shell): a new role, a deactivated
account. The pages that show them, and their own cached pages, are rendered anew."""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from kb.services import page_cache

User = get_user_model()


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # nothing shows a new account yet; logging in changes no page
    page_cache.users_changed([instance.pk])
    page_cache.viewer_changed(instance.pk)


@receiver(m2m_changed, sender=User.groups.through)
def user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    # A group's side names the members in pk_set (none on clear(): nobody is left to tell).
    user_ids = list(pk_set or ()) if reverse else [instance.pk]
    page_cache.users_changed(user_ids)
    page_cache.viewers_changed(user_ids)
