"""Documentation that cannot rot: the Python examples run, the API reference builds, every
link between the repository's documents resolves, and nothing refers to a file outside the
repository."""

from __future__ import annotations

import os
import pkgutil
import re
from pathlib import Path

import pytest

import liqstress

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def _python_blocks(md: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", md.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("k", range(len(_python_blocks(ROOT / "docs" / "python.md"))))
def test_python_page_examples_run(k, monkeypatch):
    """Every code block of docs/python.md executes from the repository root (each block
    carries its own asserts, so a wrong number fails here)."""
    blocks = _python_blocks(ROOT / "docs" / "python.md")
    assert len(blocks) >= 4  # robust strategy, maximin, CBC plan, report
    monkeypatch.chdir(ROOT)
    exec(compile(blocks[k], f"docs/python.md[block {k}]", "exec"), {"__name__": f"docs_python_{k}"})


def test_api_reference_builds(tmp_path):
    """pdoc renders every subpackage; the key pages exist and carry the docstrings."""
    pdoc = pytest.importorskip("pdoc", reason="pdoc is part of the test extras")
    subpackages = sorted(f"liqstress.{m.name}" for m in pkgutil.iter_modules(liqstress.__path__) if m.ispkg)
    pdoc.pdoc("liqstress", *subpackages, output_directory=tmp_path)
    for page in ("liqstress.html", "liqstress/models/system.html", "liqstress/models/files.html",
                 "liqstress/solvers/clearing.html", "liqstress/solvers/robust.html",
                 "liqstress/solvers/original.html", "liqstress/solvers/cbc.html",
                 "liqstress/reports/narrative.html", "liqstress/stress/engine.html"):
        assert (tmp_path / page).is_file(), page
    robust = (tmp_path / "liqstress/solvers/robust.html").read_text(encoding="utf-8")
    assert "robust_strategies" in robust and "Theorem 4.4" in robust
    files = (tmp_path / "liqstress/models/files.html").read_text(encoding="utf-8")
    assert "read_document" in files and "MAX_INPUT_BYTES" in files


def test_links_between_documents_resolve():
    """Relative links in README.md and docs/*.md point to files (and headings) that exist."""
    bad = []
    for md in DOCS:
        text = md.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http:", "https:", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            dest = (md.parent / path) if path else md
            if not dest.exists():
                bad.append(f"{md.name}: {target}")
                continue
            if anchor and dest.suffix == ".md":
                heads = {_slug(h) for h in re.findall(r"^#+\s+(.*)$", dest.read_text(encoding="utf-8"), flags=re.M)}
                if anchor not in heads:
                    bad.append(f"{md.name}: {target} (no such heading)")
    assert not bad, bad


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def test_nothing_refers_to_files_outside_the_repository():
    """The model reference is docs/model.md: no document, docstring, comment or example may
    cite a specification or seed file that the repository does not contain."""
    pattern = re.compile(r"SPEC(\.md| Part [ABC]| [A-C]\.\d)|seeds?/0\d\d|seed 00\d|\bseed's\b")
    hits = []
    for base in ("liqstress", "tests", "docs", "examples", "benchmarks", ".ci"):
        for p in (ROOT / base).rglob("*"):
            if p.is_file() and p.suffix in (".py", ".md", ".yaml", ".yml", ".json", ".txt", "") and p.name != Path(__file__).name:
                try:
                    text = p.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                hits += [f"{p.relative_to(ROOT)}:{m.group(0)}" for m in pattern.finditer(text)]
    hits += [f"README.md:{m.group(0)}" for m in pattern.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]
    assert not hits, hits[:20]


def test_model_reference_covers_every_equation_and_result():
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for eq in ("(4)", "(5)", "(6)", "(7)", "(9)", "(10)", "(11)", "(12)", "(14)", "(15)", "(17)", "(18)", "(19)", "(20)"):
        assert eq in text, eq
    for res in ("Lemma 4.2", "Proposition 4.3", "Theorem 4.4", "Theorem 4.5", "Proposition 4.6", "Lemma 5.1",
                "Proposition 5.2", "Theorem 5.3"):
        assert res in text, res
    for word in ("stalled", "time limit", "encoding_mismatch", "bound_violation", "local_optimum"):
        assert f"`{word}" in text, word
    assert "| 4 |" in text  # exit status 4 documented


def test_readme_links_the_plan_file_format():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/model.md#72-cbc-plan-file" in readme
    assert os.path.exists(ROOT / "docs" / "python.md") and "docs/python.md" in readme
