"""The README and the docs stand on their own in a fresh clone: every link they make points into
the repository, and the reference data can be regenerated from the repository's own copy; and
docs/architecture.md's table of modules is the order the code's imports follow."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "../" + "shared"      # the team's folder beside the repository; spelt apart so that
                                # this file does not match itself


def committed(suffixes) -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split()
        files = [ROOT / f for f in listed]
    except (OSError, subprocess.CalledProcessError):            # not a git checkout
        files = [p for p in ROOT.rglob("*") if not {".git", ".venv", ".venv-ci"} & set(p.parts)]
    return [p for p in files if p.suffix in suffixes and p.is_file()]


def test_no_document_or_code_points_outside_the_repository():
    offenders = [str(p.relative_to(ROOT)) for p in committed({".md", ".py"})
                 if OUTSIDE in p.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []


def test_every_relative_link_of_the_docs_resolves():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "scenarios" / "README.md"]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue                                          # web links, anchors
            if not (doc.parent / target.split("#")[0]).exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_projects_copies_of_the_shared_documents_are_there():
    for name in ("docs/conventions.md", "docs/reference/README.md",
                 "docs/reference/lumbopelvic_sources.json", "docs/reference/claims.md"):
        assert (ROOT / name).stat().st_size > 1000, name


def test_extract_reference_data_reproduces_the_packaged_data(tmp_path):
    out = tmp_path / "lumbopelvic.json"
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "extract_reference_data.py"),
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == (ROOT / "biomech" / "data" / "lumbopelvic.json").read_bytes()


def _architecture_order() -> list[str]:
    """The modules of docs/architecture.md's table, in its order (second column, backticked)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## The modules and what each may import", 1)[1].split("\n## ", 1)[0]
    order = []
    for row in section.splitlines():
        cells = row.split("|")
        if len(cells) > 3 and not set(cells[2].strip()) <= set("-"):
            order += re.findall(r"`([a-z_.]+)`", cells[2])
    return order


def _module_level_imports(path: Path, name: str) -> set[str]:
    """The biomech modules a module imports at module level (outside any function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            if node.module:
                found.add(".".join(base + [node.module]))
            else:                                   # from . import x: a module or a name
                found.update(".".join(base + [a.name]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("biomech"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("biomech"))
    return found


def test_the_architecture_lists_every_module_in_an_order_the_imports_follow():
    """docs/architecture.md lists every module of biomech/ once, and each imports, at module
    level, only modules listed before it (imports inside functions are not checked)."""
    order = _architecture_order()
    modules = {}
    for path in sorted((ROOT / "biomech").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name.removeprefix("biomech").lstrip(".") or "biomech"] = path
    assert len(order) == len(set(order)), "a module is listed twice"
    assert set(order) == set(modules) - {"biomech"}, set(order) ^ (set(modules) - {"biomech"})
    rank = {m: k for k, m in enumerate(order)}
    late = []
    for name, path in modules.items():
        if name == "biomech":
            continue
        for imported in _module_level_imports(path, "biomech." + name):
            dep = imported.removeprefix("biomech").lstrip(".")
            if dep == "" or dep == "__version__":    # the package itself (`__version__`)
                continue
            if dep not in rank:                     # a name imported from a package: its module
                dep = dep.rpartition(".")[0]
            if rank[dep] >= rank[name]:
                late.append(f"{name} imports {dep}")
    assert late == []
