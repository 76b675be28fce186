"""A binary classification scenario with a protected group attribute, for the soft demographic-parity gap and the
binary cross-entropy of any HELM deployment used as a classifier (arXiv 2509.05627's loss-fairness axes).

Every instance asks a yes/no question; the references are the two answers (the positive one first) and
`extra_data` holds the true label and the group. Sources:
- `synthetic`: statements about the people of the fixed fact world that the embedded model was trained on,
  true or false. The group is the name's gender in the lexicon (A = 1 for "she", drawn with probability `pi`), and the label follows the
  paper's stress-test tilt: P(Y = 1 | A) = sigmoid(-zeta A), so a perfect classifier has the gap
  1/2 - sigmoid(-zeta) (0 when zeta = 0).
- a JSONL file: rows {"id", "text", "label": 0/1, "group": 0/1}, optionally "split": "train" (few-shot
  examples; the rest is evaluated) and "options": [positive, negative] (default ["Yes", "No"]).
"""

import math
import random
from pathlib import Path
from typing import List

from helm.benchmark.scenarios.scenario import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Input, Instance, Output, Reference, Scenario

from helm_plugins.common.jsonl import read_jsonl_rows

SYNTHETIC = "synthetic"
DEFAULT_OPTIONS = ("Yes", "No")
QUESTION = "Is this statement true?"


def group_of(name: str) -> int:
    """The synthetic protected attribute: 1 for the names the lexicon refers to as "she"."""
    from helm_plugins.synthetic.lexicon import PRONOUNS

    return int(PRONOUNS[name] == "she")


def synthetic_items(count: int, pi: float, zeta: float, seed: str) -> List[dict]:
    from helm_plugins.synthetic.fact_world import ATTRIBUTES, _state_fact, fixed_world

    rng = random.Random(seed)
    world = fixed_world()
    by_group = {g: sorted(n for n in world if group_of(n) == g) for g in (0, 1)}
    items = []
    for index in range(count):
        group = int(rng.random() < pi)
        label = int(rng.random() < 1 / (1 + math.exp(zeta * group)))
        person = rng.choice(by_group[group])
        attribute = rng.choice(sorted(ATTRIBUTES))
        value = world[person][attribute]
        if not label:
            value = rng.choice([v for v in ATTRIBUTES[attribute][0] if v != value])
        items.append({"id": f"item{index}", "text": f"{_state_fact(attribute, person, value)} {QUESTION}",
                      "label": label, "group": group})
    return items


def read_items(path: Path) -> List[dict]:
    items, seen = [], set()
    for line_number, row in read_jsonl_rows(path):
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise ValueError(f"{path}:{line_number}: need a non-empty string field 'text'")
        for field in ("label", "group"):
            if row.get(field) not in (0, 1) or isinstance(row.get(field), bool):
                raise ValueError(f"{path}:{line_number}: {field} must be 0 or 1, got {row.get(field)!r}")
        options = row.get("options", list(DEFAULT_OPTIONS))
        if not (isinstance(options, list) and len(options) == 2 and all(isinstance(o, str) and o for o in options)):
            raise ValueError(f"{path}:{line_number}: options must be two non-empty strings [positive, negative]")
        item_id = str(row.get("id", line_number))
        if item_id in seen:
            raise ValueError(f"{path}:{line_number}: duplicate id {item_id!r}")
        seen.add(item_id)
        items.append({**row, "id": item_id, "options": options})
    return items


class FairnessClassificationScenario(Scenario):
    name = "hp_fairness"
    description = "Yes/no classification with a protected group attribute: soft demographic-parity gap and binary cross-entropy of the model's answer probabilities."
    tags = ["classification", "fairness"]

    def __init__(self, source: str = SYNTHETIC, items: int = 300, train_items: int = 20, pi: float = 0.3,
                 zeta: float = 1.0, seed: int = 0):
        super().__init__()
        self.source = source
        self.items = items
        self.train_items = train_items
        self.pi = pi
        self.zeta = zeta
        self.seed = seed

    def get_instances(self, output_path: str) -> List[Instance]:
        if self.source == SYNTHETIC:
            test = synthetic_items(self.items, self.pi, self.zeta, f"fairness:test:{self.seed}")
            train = synthetic_items(self.train_items, self.pi, self.zeta, f"fairness:train:{self.seed}")
        else:
            rows = read_items(Path(self.source))
            train = [r for r in rows if r.get("split") == "train"]
            test = [r for r in rows if r.get("split") != "train"]
        if len({r["group"] for r in test}) != 2:
            raise ValueError(f"source {self.source!r}: the evaluated items must contain both groups (0 and 1)")
        return [self._instance(r, TRAIN_SPLIT) for r in train] + [self._instance(r, TEST_SPLIT) for r in test]

    @staticmethod
    def _instance(row: dict, split: str) -> Instance:
        positive, negative = row.get("options", DEFAULT_OPTIONS)
        references = [Reference(Output(text=positive), tags=[CORRECT_TAG] if row["label"] else []),
                      Reference(Output(text=negative), tags=[] if row["label"] else [CORRECT_TAG])]
        return Instance(Input(text=row["text"]), references, split=split, id=f"{split}:{row['id']}",
                        extra_data={"label": row["label"], "group": row["group"]})
