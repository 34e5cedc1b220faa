"""The Python examples of the documentation run as written.

Every ```python block of docs/api.md and of README.md is executed, in file order, in one
namespace per file, inside a temporary directory (files the examples write go there) and with
Matplotlib's headless Agg backend. A failing block is reported with the file and the line of the
documentation where the error happened, so the docs cannot go stale silently.
"""

import os
import re
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["docs/api.md", "README.md"]

# an opening fence ```python (optionally indented), the block, the closing fence
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
                    re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number of the code, code) of every ```python block, in order."""
    blocks = []
    for m in _BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("code")) + 1
        indent = m.group("indent")
        code = "".join(ln[len(indent):] if ln.startswith(indent) else ln
                       for ln in m.group("code").splitlines(keepends=True))
        blocks.append((line, code))
    return blocks


def test_block_extraction():
    text = "x\n```python\na = 1\n```\n\n```bash\nls\n```\n  ```python\n  b = 2\n  ```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = 2\n")]


@pytest.mark.parametrize("doc", DOCS)
def test_doc_examples_run(doc, tmp_path, monkeypatch):
    path = ROOT / doc
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    assert blocks, f"{doc}: no ```python blocks found (did the fence syntax change?)"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"doc:{doc}"}
    for line, code in blocks:
        # pad with blank lines so that tracebacks give the line number in the .md file
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        try:
            exec(compiled, namespace)
        except Exception as exc:
            raise AssertionError(f"{doc}: the ```python block at line {line} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
