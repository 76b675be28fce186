"""Shared by the benchmark scripts: the ratio table and the section each script prints and writes."""

from pathlib import Path
from typing import Callable, List, Optional, Sequence

HEADER = ["| benchmark | ours | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]


class RatioTable:
    """Rows of `ours / baseline` with a target; `met(ratio)` says whether the target holds (None: report only)."""

    def __init__(self) -> None:
        self.lines: List[str] = list(HEADER)

    def row(self, name: str, ours: float, baseline: float, unit: str, target: str,
            met: Optional[Callable[[float], bool]] = None) -> float:
        ratio = ours / baseline
        verdict = "-" if met is None else ("yes" if met(ratio) else "no")
        self.lines.append(f"| {name} | {ours:,.2f} {unit} | {baseline:,.2f} {unit} | {ratio:.3f} | {target} | {verdict} |")
        return ratio


def emit(title: str, command: str, body: Sequence[str], output: Optional[Path], preamble: str = "Produced by:") -> str:
    """Print the markdown section `## title` (the command that produced it, then `body`) and write it to `output`."""
    section = "\n".join([f"## {title}", "", preamble, "", f"    {command}", "", *body])
    print(section)
    if output:
        Path(output).write_text(section + "\n")
    return section
