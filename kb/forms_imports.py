"""Forms of the import page: the upload (a pasted text or a file) and the plan a member adjusts.
The plan travels in the form itself (hidden fields and one row of fields per question), so the
page works as a plain form round trip without JavaScript."""

from pathlib import PurePath

from django import forms
from django.utils.translation import gettext_lazy as _

from kb.article_import import MAX_ARTICLE_BYTES
from kb.forms import tag_names
from kb.selectors.imports import ACTIONS, ImportPlan, PlanEntry

ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_ENTRIES = 200


class ImportSourceForm(forms.Form):
    """Where the plan's provenance comes from; on the upload form and again on the plan."""

    source_url = forms.URLField(
        label=_("Source URL"), required=False, max_length=500, assume_scheme="https"
    )
    license = forms.CharField(
        label=_("License line the source shows"), required=False, max_length=300
    )


class ImportUploadForm(ImportSourceForm):
    text = forms.CharField(
        label=_("Paste the article"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    file = forms.FileField(
        label=_("or upload a file (.txt, .md, .html)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )
    field_order = ["text", "file", "source_url", "license"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if PurePath(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("Upload a .txt, .md or .html file."))
        if upload.size > MAX_ARTICLE_BYTES:
            raise forms.ValidationError(
                _("The file is too large (%(size)s MB); the limit is %(limit)s MB.")
                % {
                    "size": f"{upload.size / 1024 / 1024:.1f}",
                    "limit": MAX_ARTICLE_BYTES // 1024 // 1024,
                }
            )
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Paste an article or choose a file."))
        return data

    def article(self) -> tuple[bytes, str]:
        """The bytes to read and the name they came under."""
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read(), PurePath(upload.name).name
        text = self.cleaned_data["text"]
        name = "pasted.html" if text.lstrip()[:1] == "<" else "pasted.txt"
        return text.encode("utf-8"), name


def plan_from_post(data) -> tuple[ImportPlan, list[str]]:
    """The plan as the member adjusted it: the hidden plan fields and, per question,
    entry-N-title/-answer/-tags/-section/-body/-action/-target. Errors for what cannot be read."""
    errors: list[str] = []
    plan = ImportPlan(
        page_title=data.get("page_title", "")[:300],
        source_name=data.get("source_name", "")[:200],
        encoding=data.get("encoding", "utf-8")[:30],
        content_hash=data.get("content_hash", "")[:64],
    )
    try:
        count = min(int(data.get("entry_count", "0")), MAX_ENTRIES)
    except ValueError:
        count = 0
    for index in range(count):
        prefix = f"entry-{index}-"
        title = " ".join(data.get(prefix + "title", "").split())
        if not title:
            continue  # a row the member emptied is dropped
        action = data.get(prefix + "action", "new")
        target_text = data.get(prefix + "target", "").strip().lstrip("#")
        target = int(target_text) if target_text.isdigit() else None
        if action not in ACTIONS:
            errors.append(_("《%(title)s》: unknown choice.") % {"title": title})
            action = "new"
        if action == "add" and target is None:
            errors.append(
                _("《%(title)s》: say which question (#N) the answer goes to.") % {"title": title}
            )
        plan.entries.append(
            PlanEntry(
                title=title,
                answer=data.get(prefix + "answer", "").replace("\r\n", "\n").strip(),
                tags=tag_names(data.get(prefix + "tags", ""))[:5],
                section=data.get(prefix + "section", "")[:100],
                body=data.get(prefix + "body", "").replace("\r\n", "\n"),
                action=action,
                target_id=target,
            )
        )
    if not plan.entries:
        errors.append(_("The plan has no questions left."))
    return plan, errors
