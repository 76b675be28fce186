"""Every relative link of README.md and docs/*.md points at a file (and, with #anchor, a heading) that exists."""

import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def markdown_files() -> List[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def links(path: Path) -> Iterator[Tuple[int, str]]:
    """(line number, target) of every markdown link and image outside code blocks and indented code."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text())
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("    "):  # indented code block
            continue
        line = re.sub(r"`[^`]*`", "", line)  # inline code
        for match in LINK.finditer(line):
            yield number, match.group(1)


def anchors(path: Path) -> set:
    """GitHub's anchors of a markdown file's headings."""
    result = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            result.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return result


def broken_links(path: Path, root: Path = ROOT) -> List[str]:
    problems = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(root)}:{number}: {target}"
        if not resolved.is_relative_to(root):
            problems.append(f"{where} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where} does not exist")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading #{anchor} in {resolved.relative_to(root)}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    assert broken_links(path) == []


def test_checker_reports_a_missing_file_an_unknown_anchor_and_skips_code(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title here\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md#title-here) [gone](docs/missing.md)\n"
        "[bad anchor](docs/a.md#nowhere) ![pic](docs/none.png)\n"
        "    [indented code](docs/ignored.md)\n"
        "```\n[fenced](docs/ignored.md)\n```\n"
        "`[inline](docs/ignored.md)` [web](https://example.org/x.md)\n"
    )
    assert broken_links(page, tmp_path) == [
        "README.md:1: docs/missing.md does not exist",
        "README.md:2: docs/a.md#nowhere: no heading #nowhere in docs/a.md",
        "README.md:2: docs/none.png does not exist",
    ]
