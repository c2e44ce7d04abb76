"""The documentation runs: every ```python block of README.md and docs/*.md is executed.

Each page's Python blocks run as a user runs them: written in order into one script file,
``page.py`` in a temporary directory, and run there by a fresh ``python page.py`` (a page
reads as one script; each page says so at its top). A page that starts processes which
re-import the script (Dask's worker processes, a spawned pool) therefore needs its
``if __name__ == "__main__":`` guard, as it would for a reader. The script keeps every
code line at its Markdown line number (the lines between blocks are blank), so a failure
is reported with the page's file and line. Blocks that must not run use another fence
language (``bash``, ``toml``, ``text``).

Besides running the code, the checks here keep the pages honest in cheap ways: the
README stays a front door (at most 250 lines), every fence names its language (so a
Python block cannot slip through untested by losing its tag), every relative link and
every repository path quoted in the text exists, and no page refers to notes a reader
cannot see ("seed 000").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: every page whose prose is checked for paths and notes (the config pointer and the measurements too)
PROSE = [*PAGES, ROOT / "configs" / "README.md", ROOT / "bench" / "RESULTS.md"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Block:
    """One fenced code block: its language, the line of its first code line, its code."""

    lang: str
    line: int
    code: str


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order (indented fences included)."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang = m["info"].strip().split(" ")[0].lower() if m["info"].strip() else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = _FENCE.match(lines[j])
            if (
                close
                and close["fence"][0] == fence[0]
                and len(close["fence"]) >= len(fence)
                and not close["info"].strip()
            ):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        else:
            raise AssertionError(f"{path.relative_to(ROOT)}:{i + 1}: code fence never closed")
        found.append(Block(lang, i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return found


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


_RUNNABLE = [p for p in PAGES if any(b.lang == "python" for b in blocks(p))]


def page_script(page: Path) -> str:
    """The page's Python blocks as one script, each code line at its line number in the page."""
    lines = [""] * len(page.read_text(encoding="utf-8").splitlines())
    for block in blocks(page):
        if block.lang == "python":
            for k, line in enumerate(block.code.splitlines()):
                lines[block.line - 1 + k] = line
    return "\n".join(lines) + "\n"


_SCRIPT_LINE = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+)', re.M)


def run_page(page: Path, where: Path, timeout: float = 280) -> str | None:
    """``python page.py`` of :func:`page_script` in ``where``; None when it succeeds, else what failed, at
    the page's file and line (the last line of the traceback in the script)."""
    script = where / "page.py"
    script.write_text(page_script(page), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, script.name], cwd=where, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if result.returncode == 0:
        return None
    name = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page
    lines = [m["line"] for m in _SCRIPT_LINE.finditer(result.stderr) if Path(m["file"]).name == script.name]
    at = f"{name}:{lines[-1]}" if lines else str(name)
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit code {result.returncode}"
    return (
        f"the page's Python blocks failed as a script (python page.py) at {at}: {last}\n"
        f"--- stderr (script lines are {name}'s lines) ---\n{result.stderr[-4000:]}"
    )


@pytest.mark.parametrize("page", _RUNNABLE, ids=_rel)
def test_python_blocks_run(page: Path, tmp_path):
    """Run the page's Python blocks in order, as one script file in a fresh process, as a reader would."""
    failure = run_page(page, tmp_path)  # a block that writes files writes them in tmp_path
    assert failure is None, failure


@pytest.mark.slow
def test_a_page_runs_as_a_script_and_a_failure_names_its_line(tmp_path):
    """The script runs as __main__ in its own process: a page that starts spawned processes without the
    main guard fails (the children re-run the script), with the guard it runs; errors name the page's line."""
    pool = "import multiprocessing\n\ndef work():\n    pass\n\n"
    start = (
        'child = multiprocessing.get_context("spawn").Process(target=work)\n'
        "child.start()\n"
        "child.join()\n"
        'assert child.exitcode == 0, f"the child process failed: exit code {child.exitcode}"\n'
    )
    unguarded = tmp_path / "unguarded.md"
    unguarded.write_text(f"# A page\n\nSome text.\n\n```python\n{pool}```\n\nMore text.\n\n```python\n{start}```\n")
    failure = run_page(unguarded, tmp_path, timeout=60)
    assert failure is not None and "bootstrapping phase" in failure, failure
    guarded = tmp_path / "guarded.md"
    indented = "".join("    " + line + "\n" for line in start.splitlines())
    guarded.write_text(f'# A page\n\n```python\n{pool}if __name__ == "__main__":\n{indented}```\n')
    assert run_page(guarded, tmp_path, timeout=60) is None
    broken = tmp_path / "broken.md"
    broken.write_text(
        "# A page\n\n```python\nx = 1\n```\n\ntext\n\n```python\ny = x + 1\nassert y == 3, 'y is 2'\n```\n"
    )
    failure = run_page(broken, tmp_path, timeout=60)
    assert failure.startswith(
        f"the page's Python blocks failed as a script (python page.py) at {broken}:11: AssertionError: y is 2"
    ), failure


_CONFIGS = [(p, b) for p in PAGES for b in blocks(p) if b.lang == "toml" and re.search(r"^\[study\]", b.code, re.M)]


@pytest.mark.parametrize("page, block", _CONFIGS, ids=[f"{_rel(p)}:{b.line}" for p, b in _CONFIGS])
def test_toml_configs_load(page: Path, block: Block, tmp_path, monkeypatch):
    """A complete configuration shown in the docs passes the same checks as `czar-gbdt tune`."""
    from czar_gbdt.config import load_config

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "study.toml"
    path.write_text(block.code, encoding="utf-8")
    cfg = load_config(path)
    assert cfg["study"]["name"]


def test_there_are_python_blocks():
    """The README and the reference pages show runnable code (the test above is not vacuous)."""
    names = {p.name for p in _RUNNABLE}
    assert {"README.md", "losses.md", "backends.md", "evaluation.md", "classification.md"} <= names


def test_readme_is_a_front_door():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= 250, f"README.md has {n} lines; reference material belongs in docs/ (at most 250)."


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_fence_names_its_language(page: Path):
    untagged = [b.line - 1 for b in blocks(page) if not b.lang]
    assert not untagged, (
        f"{_rel(page)}: code fences without a language at lines {untagged}; "
        "use ```python for code that runs, ```bash/```toml/```text otherwise."
    )


_LINK = re.compile(r"\]\(([^)\s]+)\)")
_REPO_PATH = re.compile(r"(?<![\w/.<-])((?:configs|bench|notebooks|docs|tests|czar_gbdt|\.ci)/[\w./-]*\w)")


def _outside_code(text: str) -> str:
    """The text without its fenced blocks (paths inside shell/TOML blocks are checked too, below)."""
    return re.sub(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", "", text, flags=re.S | re.M)


@pytest.mark.parametrize("page", PROSE, ids=_rel)
def test_links_and_paths_exist(page: Path):
    text = page.read_text(encoding="utf-8")
    missing = []
    for target in _LINK.findall(_outside_code(text)):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor on the same page
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    for path in _REPO_PATH.findall(text):  # repository-relative, in prose and in code
        path = path.rstrip(".")
        if "*" in path or "<" in path:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    assert not missing, f"{_rel(page)} points at files that do not exist: {sorted(set(missing))}"


@pytest.mark.parametrize("page", PROSE, ids=_rel)
def test_no_private_notes(page: Path):
    """Say what was meant, not which private note it came from."""
    hits = [m.group(0) for m in re.finditer(r"\bseeds? ?0\d\d\b", page.read_text(encoding="utf-8"), re.I)]
    assert not hits, f"{_rel(page)} refers to notes a reader cannot see: {hits}"
