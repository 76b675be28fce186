"""`hp_mle_task`'s scenario: one instance per task of a pool (MLE-Dojo's format), prepared in the sandbox with its
reference scores. The input is the task's description (what the agent reads); the reference states what a
normalised score of 1 means; `extra_data` carries the prepared task's folder to the executor (the private answers
stay in that folder and never enter an agent's directory)."""

from pathlib import Path
from typing import List, Optional

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


class MLETaskScenario(Scenario):
    name = "mle_task"
    description = "Machine-learning engineering tasks (description, data, metric) solved by an agent in a sandbox"
    tags = ["agents", "mle"]

    def __init__(self, pool: str = "human", num_tasks: Optional[int] = None):
        super().__init__()
        self.pool, self.num_tasks = pool, num_tasks

    def get_instances(self, output_path: str) -> List[Instance]:
        from helm_plugins.agents.mle_smith.pools import pool_key, prepared_pool

        output_root = Path(output_path).resolve().parents[1]  # <output>/scenarios/<name> -> <output>
        tasks = prepared_pool(self.pool, output_root, self.num_tasks)
        instances = []
        for task in tasks:
            from helm_plugins.common.mle_tasks import reference_scores

            refs = reference_scores(task)
            gold = (f"{task.info.metric} ({'higher' if task.info.higher_is_better else 'lower'} is better): constant "
                    f"baseline {refs.constant:.4g} = normalised 0, gradient-boosting reference {refs.gbm:.4g} = 1")
            instances.append(Instance(
                input=Input(text=task.description), references=[Reference(Output(text=gold), tags=[CORRECT_TAG])],
                split=TEST_SPLIT, id=task.name,
                extra_data={"mle_task_root": str(task.root), "mle_output_root": str(output_root),
                            "mle_pool_key": pool_key(self.pool)},
            ))
        return instances

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name="mle_task", display_name=f"MLE tasks ({self.pool})",
            description="Competition-style ML engineering tasks in MLE-Dojo's format; scored by each task's metric, "
                        "normalised between a constant baseline and a gradient-boosting reference.",
            taxonomy=TaxonomyInfo(task="machine-learning engineering", what="tabular and text prediction tasks",
                                  when="2025", who="hand-designed or generated", language="English"),
            main_metric="normalized_score", main_split="test",
        )
