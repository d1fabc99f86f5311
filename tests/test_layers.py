"""Layers point one way. Read from the source (ast, every import including those inside
functions), so a lazy import cannot hide a wrong direction:

- models import no rules (kb.permissions, kb.privileges), no services and no selectors;
- selectors import no services and no template tags;
- template tags import no services (they decide and write nothing);
- kb.services.edits and kb.services.reviews do not import each other both ways.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("kb", "accounts", "notifications", "practice")

RULES = ("kb.permissions", "kb.privileges")


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports: `import a.b` gives a.b; `from a import b` gives a and a.b
    (b may be a module or a name in a; both are checked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _is_under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _files(pattern: str) -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).glob(pattern))


def _service_modules() -> tuple[str, ...]:
    """kb.services (a package) and every app's services module."""
    return ("kb.services", *(f"{app}.services" for app in APPS if app != "kb"))


def _template_tag_modules() -> tuple[str, ...]:
    return tuple(f"{app}.templatetags" for app in APPS)


def _violations(files: list[Path], forbidden) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if _is_under(module, forbidden)
    ]


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The checker itself: an import inside a function and a relative import are seen, and
    they count as violations."""
    source = tmp_path / "kb" / "selectors" / "probe.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "def f():\n    from kb.services.votes import vote_cast\n"
        "from ..templatetags import kb_pages\n",
        encoding="utf-8",
    )
    modules = imported_modules(source, root=tmp_path)
    assert "kb.services.votes" in modules
    assert "kb.templatetags.kb_pages" in modules
    assert _is_under("kb.services.votes", _service_modules())
    assert not _is_under("kb.servicesx", _service_modules())


def test_models_import_no_rules_services_or_selectors():
    models = [ROOT / app / "models.py" for app in APPS]
    forbidden = (*RULES, *_service_modules(), "kb.selectors", "notifications.selectors",
                 "practice.selectors")  # fmt: skip
    assert _violations(models, forbidden) == []


def test_selectors_import_no_services_and_no_template_tags():
    selectors = _files("selectors/*.py") + _files("selectors.py")
    assert selectors, "no selector modules found"
    assert _violations(selectors, (*_service_modules(), *_template_tag_modules())) == []


def test_template_tags_import_no_services():
    tags = _files("templatetags/*.py")
    assert tags, "no template tag modules found"
    assert _violations(tags, _service_modules()) == []


def test_edits_and_reviews_do_not_import_each_other():
    """One direction only: a direct edit supersedes a waiting suggestion (edits -> reviews);
    what both need (PostContent, the shared checks) is in kb.services.post_content."""
    edits = imported_modules(ROOT / "kb/services/edits.py")
    reviews = imported_modules(ROOT / "kb/services/reviews.py")
    edits_uses_reviews = any(_is_under(m, ["kb.services.reviews"]) for m in edits)
    reviews_uses_edits = any(_is_under(m, ["kb.services.edits"]) for m in reviews)
    assert not (edits_uses_reviews and reviews_uses_edits)
    assert not reviews_uses_edits
