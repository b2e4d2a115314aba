"""The project documents itself: every link in the README and docs/ to a file
of the project resolves inside the repository, and the code cites the
project's own docs (or the literature), never a document outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_local_link_resolves_inside_the_repository():
    broken = []
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path = (document.parent / target).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, "\n".join(broken)


def test_every_docs_path_the_code_cites_exists():
    cited = set()
    for folder in ("matcher", "solvers", "web", "seeds", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            cited.update(re.findall(r"docs/[\w-]+\.md", path.read_text(encoding="utf-8")))
    assert cited and all((ROOT / name).exists() for name in cited), sorted(cited)
