"""HELM's MedCalc-Bench, MedEC and HeadQA scenarios with their training data added as the train split.

HELM's classes load only the test split ("limit to zero shot setting"). Structured prompting optimises on the
benchmark's training data, as the paper did (MedCalc-Bench and HeadQA: the Hugging Face train split; MedEC: the
MEDEC-MS training CSV), so these subclasses add it with HELM's own download and parsing code. Train ids are prefixed
"train-" so they can never collide with evaluation ids; the evaluation instances are HELM's unchanged, and the
optimisation pipeline's guard checks that no question text is shared.
"""

import dataclasses
from typing import List

from helm.benchmark.scenarios.headqa_scenario import HeadQAScenario
from helm.benchmark.scenarios.medcalc_bench_scenario import MedCalcBenchScenario
from helm.benchmark.scenarios.medec_scenario import MedecScenario
from helm.benchmark.scenarios.scenario import TRAIN_SPLIT, Instance


def _train_ids(instances: List[Instance]) -> List[Instance]:
    return [dataclasses.replace(instance, id=f"train-{instance.id if instance.id is not None else n}")
            for n, instance in enumerate(instances)]


class MedCalcBenchWithTrainScenario(MedCalcBenchScenario):
    def get_instances(self, output_path: str, version=None) -> List[Instance]:
        from helm.benchmark.scenarios import medcalc_bench_scenario

        instances = super().get_instances(output_path, version)
        dataset = medcalc_bench_scenario.load_dataset(f"ncbi/MedCalc-Bench{('-' + version) if version else ''}")
        return instances + _train_ids(self.process_csv(dataset["train"], TRAIN_SPLIT))


class MedecWithTrainScenario(MedecScenario):
    def get_instances(self, output_path: str) -> List[Instance]:
        instances = super().get_instances(output_path)
        train_csv = self.download_csv(self.TRAIN_URL, output_path, "medec_train.csv")
        return instances + _train_ids(self.process_csv(train_csv, TRAIN_SPLIT))


class HeadQAWithTrainScenario(HeadQAScenario):
    """HeadQA's English train split through HELM's own parsing: HELM's loop reads only the dataset's "test" split,
    so for the second pass the loader hands it the train split under that name (single-threaded, restored)."""

    def get_instances(self, output_path: str) -> List[Instance]:
        from helm.benchmark.scenarios import headqa_scenario

        instances = super().get_instances(output_path)
        load_dataset = headqa_scenario.load_dataset
        headqa_scenario.load_dataset = lambda *args, **kwargs: {"test": load_dataset(*args, **kwargs)["train"]}
        try:
            train = super().get_instances(output_path)
        finally:
            headqa_scenario.load_dataset = load_dataset
        return instances + _train_ids([dataclasses.replace(i, split=TRAIN_SPLIT) for i in train])
