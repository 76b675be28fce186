"""Offline synthetic HELM scenarios: worked arithmetic (generation) and fact-world questions (multiple choice).

Both are generated from a seed, need no download, and are the tasks the embedded default model
`helm-plugins/tiny-default` was trained on (its training documents use only the training split: arithmetic
operand pairs held out by `is_held_out` and freshly sampled fact worlds). Any HELM model can be run on them.
"""

from typing import List

from helm.benchmark.presentation.taxonomy_info import TaxonomyInfo
from helm.benchmark.scenarios.scenario import (
    CORRECT_TAG,
    TEST_SPLIT,
    TRAIN_SPLIT,
    Input,
    Instance,
    Output,
    Reference,
    Scenario,
    ScenarioMetadata,
)

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.fact_world import NUM_OPTIONS, generate_closed_book_questions, generate_fact_questions

NUM_TRAIN_INSTANCES = 20  # pool for few-shot examples when a run entry asks for max_train_instances > 0


class SyntheticArithmeticScenario(Scenario):
    """Two-number addition and subtraction word problems (operands below 100) with worked solutions.

    Evaluation problems use operand pairs that never occur in the training split. The reference is the worked
    solution; `final_number_exact_match` compares its last number with the model's last number.

    Input: "Nora has 47 shells. She finds 38 more. How many shells does Nora have now?"
    Reference: "47 + 38. Ones: 7 + 8 = 15, write 5 carry 1. Tens: 4 + 3 + 1 = 8. So 47 + 38 = 85. The answer is 85."
    """

    name = "hp_synthetic_arithmetic"
    description = "Worked two-digit arithmetic word problems on held-out operand pairs (synthetic, offline)."
    tags = ["reasoning", "math", "synthetic"]

    def __init__(self, num_instances: int = 200, seed: int = 0):
        super().__init__()
        self.num_instances = num_instances
        self.seed = seed

    def get_instances(self, output_path: str) -> List[Instance]:
        splits = ((TRAIN_SPLIT, "train", NUM_TRAIN_INSTANCES), (TEST_SPLIT, "test", self.num_instances))
        return [
            Instance(
                Input(text=problem.question),
                references=[Reference(Output(text=problem.solution), tags=[CORRECT_TAG])],
                split=helm_split,
                id=f"{helm_split}{i}",
            )
            for helm_split, split, num in splits
            for i, problem in enumerate(generate_arithmetic_problems(num, self.seed, split))
        ]

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name=self.name,
            display_name="Synthetic arithmetic",
            description=self.description,
            taxonomy=TaxonomyInfo(task="math word problems", what="templated problems", who="generator", when="n/a", language="English"),
            main_metric="final_number_exact_match",
            main_split=TEST_SPLIT,
        )


class SyntheticFactWorldScenario(Scenario):
    """Four-option questions about generated fact worlds (chance 1 / 4).

    Passage: a small world of three people is stated before each question, and the wrong options include the
    other people's values of the asked attribute.
    Input: "Omar keeps a goat. Nora lives in Dover. Omar lives in Leeds. ... Where does Omar live?"
    References: "Riga", "Leeds" (correct), "Dover", "Lima"

    Closed book: questions about one fixed world that a model must know from pretraining; the evaluation asks
    only the held-out (person, attribute) pairs, which helm_plugins' corpus states in biographies but never
    asks. Input: "Where does Omar live?"  References: "Lima", "Turin", "Leeds" (correct), "Oslo"
    """

    name = "hp_synthetic_fact_world"
    description = f"Multiple-choice questions ({NUM_OPTIONS} options) about generated fact worlds (synthetic, offline)."
    tags = ["question_answering", "reading_comprehension", "knowledge", "synthetic"]

    def __init__(self, num_instances: int = 200, seed: int = 0, closed_book: bool = False):
        super().__init__()
        self.num_instances = num_instances
        self.seed = seed
        self.closed_book = closed_book

    def get_instances(self, output_path: str) -> List[Instance]:
        generate = generate_closed_book_questions if self.closed_book else generate_fact_questions
        splits = ((TRAIN_SPLIT, "train", NUM_TRAIN_INSTANCES), (TEST_SPLIT, "test", self.num_instances))
        return [
            Instance(
                Input(text=question.text),
                references=[
                    Reference(Output(text=option), tags=[CORRECT_TAG] if j == question.correct_index else [])
                    for j, option in enumerate(question.options)
                ],
                split=helm_split,
                id=f"{helm_split}{i}",
            )
            for helm_split, split, num in splits
            for i, question in enumerate(generate(num, self.seed, split))
        ]

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name=self.name,
            display_name="Synthetic fact world",
            description=self.description,
            taxonomy=TaxonomyInfo(
                task="multiple-choice question answering", what="generated facts", who="generator", when="n/a", language="English"
            ),
            main_metric="exact_match",
            main_split=TEST_SPLIT,
        )
