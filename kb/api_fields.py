"""Sparse fieldsets: `?fields=id,title,score,answers.body_markdown,author.username` keeps only those
fields (a dotted name reaches into a nested object or list); an unknown name is a 400."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as ApiValidationError

FIELDS_PARAMETER = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    description="Comma-separated fields to return, e.g. `id,title,score,answers.body_markdown,"
    "author.username`; a dotted name reaches into a nested object or list. Unknown names: 400.",
)


def field_tree(serializer_class, nested: dict | None = None) -> dict:
    """{name: subtree or None} of what a serializer outputs; `nested` names the serializers of
    method fields that hold objects (a question's answers)."""
    tree: dict = {}
    for name, field in serializer_class().fields.items():
        child = getattr(field, "child", field)
        if (nested or {}).get(name) is not None:
            tree[name] = field_tree(nested[name])
        elif isinstance(child, serializers.BaseSerializer):
            tree[name] = field_tree(type(child))
        else:
            tree[name] = None
    return tree


def parse_fields(raw: str | None, tree: dict) -> dict | None:
    """The requested selection as a tree, or None for everything; 400 on an unknown name."""
    if raw is None:
        return None
    selection: dict = {}
    unknown = []
    for name in filter(None, (part.strip() for part in raw.split(","))):
        node, branch, known = tree, selection, True
        parts = name.split(".")
        for depth, part in enumerate(parts):
            if node is None or part not in node:
                known = False
                break
            last = depth == len(parts) - 1
            if last:
                branch[part] = None  # the whole field
            elif branch.get(part, {}) is not None:
                branch = branch.setdefault(part, {})
            else:
                break  # the whole field was asked for already
            node = node[part]
        if not known:
            unknown.append(name)
    if unknown:
        raise ApiValidationError({"fields": [f"Unknown field: {name}." for name in unknown]})
    if not selection:
        raise ApiValidationError({"fields": ["Name at least one field."]})
    return selection


def select(data, selection: dict | None):
    if selection is None:
        return data
    if isinstance(data, list):
        return [select(item, selection) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        name: select(data[name], sub) if sub is not None else data[name]
        for name, sub in selection.items()
        if name in data
    }


class SparseFieldsMixin:
    """For an APIView: `fields_serializer` (and `fields_nested`) say what may be asked for; the
    selection is checked before the view reads anything and applied to the rendered data (a
    page's `results`, or the object)."""

    fields_serializer = None
    fields_nested: dict | None = None

    def fields_tree(self) -> dict:
        cls = type(self)
        if "_fields_tree" not in cls.__dict__:
            cls._fields_tree = field_tree(self.fields_serializer, self.fields_nested)
        return cls._fields_tree

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.fields_selection = None
        if request.method in ("GET", "HEAD") and self.fields_serializer is not None:
            raw = request.query_params.get("fields")
            self.fields_selection = parse_fields(raw, self.fields_tree())

    def finalize_response(self, request, response, *args, **kwargs):
        selection = getattr(self, "fields_selection", None)
        if selection is not None and response.status_code == 200 and hasattr(response, "data"):
            data = response.data
            if isinstance(data, dict) and isinstance(data.get("results"), list):
                response.data = {**data, "results": select(data["results"], selection)}
            else:
                response.data = select(data, selection)
        return super().finalize_response(request, response, *args, **kwargs)
