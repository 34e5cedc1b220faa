"""The README and the docs stand on their own in a fresh clone: every link they make points into
the repository, and the reference data can be regenerated from the repository's own copy."""

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
