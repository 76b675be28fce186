"""Held-out texts of one subgroup, scored by HELM's language-modelling adapter: per-document log-probability and
bits per byte for every model of a family, the per-subgroup errors of a relative scaling law.

JSONL rows: {"id", "text", "subgroup"}; `subgroup=` selects the rows (each subgroup is its own run, so that
`helm-plugins relative-scaling --from-suite` selects them with `--subgroup subgroup=A --baseline subgroup=B`).
`source=synthetic-dialects`: 200 generated stories per subgroup, `frequent` (as written) and `rare` (the
demo's dialect), the held-out texts of the demo's corpus kind.
"""

from pathlib import Path
from typing import List

from helm.benchmark.scenarios.scenario import TEST_SPLIT, Input, Instance, Scenario

from helm_plugins.common.jsonl import read_jsonl_rows

SYNTHETIC_DIALECTS = "synthetic-dialects"
SYNTHETIC_TEXTS = 200


class SubgroupTextScenario(Scenario):
    name = "hp_text_loss"
    description = "Held-out texts of one subgroup (e.g. a dialect), scored by log-probability and bits per byte."
    tags = ["language_modeling"]

    def __init__(self, source: str, subgroup: str):
        super().__init__()
        self.source = source
        self.subgroup = subgroup

    def _rows(self):
        if self.source == SYNTHETIC_DIALECTS:
            from helm_plugins.statistics.relative_scaling.demo import to_dialect
            from helm_plugins.synthetic.stories import generate_stories

            stories = generate_stories(2 * SYNTHETIC_TEXTS, "relative-scaling-held-out")
            texts = {"frequent": stories[:SYNTHETIC_TEXTS], "rare": [to_dialect(s) for s in stories[SYNTHETIC_TEXTS:]]}
            rows = [{"id": f"{name}{i}", "text": text, "subgroup": name} for name, group in texts.items() for i, text in enumerate(group)]
            return enumerate(rows, 1)
        return read_jsonl_rows(Path(self.source))

    def get_instances(self, output_path: str) -> List[Instance]:
        path = self.source
        instances, subgroups, seen = [], set(), set()
        for line_number, row in self._rows():
            for field in ("id", "text", "subgroup"):
                if not isinstance(row.get(field), str) or not row[field]:
                    raise ValueError(f"{path}:{line_number}: missing or empty string field {field!r}")
            if row["id"] in seen:
                raise ValueError(f"{path}:{line_number}: duplicate id {row['id']!r}")
            seen.add(row["id"])
            subgroups.add(row["subgroup"])
            if row["subgroup"] == self.subgroup:
                instances.append(Instance(Input(text=row["text"]), [], split=TEST_SPLIT, id=row["id"]))
        if not instances:
            raise ValueError(f"{path}: no text of subgroup {self.subgroup!r} (subgroups: {sorted(subgroups)})")
        return instances
