"""HELM scenario over a HAL benchmark: one instance per task.

The instance's input is the task as the agent sees it (for the run page); `extra_data` carries the whole task,
gold included, to the harness, which keeps the gold out of the agent's directory. The reference is the gold in
words (the answer, the goal database's hash, or the hidden tests to pass).

    airline-0-1  "Hi, I am Ava (user id ava_1234). Book me a economy seat on the cheapest available flight ..."
                 reference: "final database hash 3f2a…"
"""

import json
from pathlib import Path
from typing import List

from helm.benchmark.presentation.taxonomy_info import TaxonomyInfo
from helm.benchmark.scenarios.scenario import (
    CORRECT_TAG,
    TEST_SPLIT,
    Input,
    Instance,
    Output,
    Reference,
    Scenario,
    ScenarioMetadata,
)

from helm_plugins.agents.hal.benchmarks import BENCHMARKS, Task, make_tasks, task_to_json


def describe_task(task: Task) -> str:
    public = task.public
    text = public.get("instruction") or public.get("question") or public.get("statement") or json.dumps(public)
    if task.files:
        text += f"\nFiles: {', '.join(sorted(task.files))}"
    if "sample_input" in public:
        text += f"\nSample input:\n{public['sample_input']}Sample output:\n{public['sample_output']}"
    return text


def describe_gold(task: Task) -> str:
    gold = task.gold
    if "answer" in gold:
        return str(gold["answer"])
    if "test_files" in gold:
        return f"passes all {len(gold['test_files'])} hidden tests"
    if "goal_db_hash" in gold:
        return f"final database hash {gold['goal_db_hash'][:16]}… ({gold['kind']})"
    return f"passes all {len(gold.get('tests', []))} hidden tests"


class HALScenario(Scenario):
    name = "hal"
    description = "HAL-style agent benchmark: tasks solved by an agent in a sandbox with tools; gold kept by the harness"
    tags = ["agents"]

    def __init__(self, benchmark: str, num_tasks: int = 30, seed: int = 0, data_path: str = ""):
        super().__init__()
        BENCHMARKS.get(benchmark)  # unknown names fail here, with the known ones
        self.benchmark, self.num_tasks, self.seed, self.data_path = benchmark, num_tasks, seed, data_path

    def get_instances(self, output_path: str) -> List[Instance]:
        output_root = str(Path(output_path).resolve().parents[1])  # <output>/scenarios/<name> -> <output>
        return [
            Instance(
                input=Input(text=describe_task(task)),
                references=[Reference(Output(text=describe_gold(task)), tags=[CORRECT_TAG])],
                split=TEST_SPLIT,
                id=task.id,
                extra_data={"hal_task": task_to_json(task), "hal_output_root": output_root},
            )
            for task in make_tasks(self.benchmark, self.num_tasks, self.seed, self.data_path)
        ]

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name=f"hal_{self.benchmark}",
            display_name=f"HAL {self.benchmark}",
            description=BENCHMARKS.get(self.benchmark).description,
            taxonomy=TaxonomyInfo(task="agentic tasks", what="tool use, files, programs", when="2025", who="synthetic",
                                  language="English"),
            main_metric="accuracy",
            main_split="test",
        )
