"""UQ scenarios (arXiv 2508.17580): unsolved Stack Exchange questions, and a meta-evaluation on known answers.

UQScenario reads questions in the UQ dataset's format, one JSON object a line:

    {"question_id": "...", "title": "...", "body": "<markdown>", "tags": ["..."], "site": "math",
     "category": "Science", "votes": 12, "views": 900, "comments": [...], ...}

`questions=released` loads the released 500-question test split (Hugging Face `uq-project/uq`, CC BY-SA 4.0, from
Stack Exchange; attribution kept in each instance's extra data) with `datasets` — it needs the network or a filled
Hugging Face cache. `questions=generated` writes generated questions in the same format (offline). The questions
have no answers, so instances have no references: answers are judged by the UQ validators.

UQMetaEvalScenario: generated arithmetic questions with known answers, each with one planted answer that is right
or wrong (half and half, by seed). The validators judge the planted answer (validator precision, recall,
accuracy), and the model's own answer is scored against the known one (answer accuracy), giving the
generator–validator gap. With `labelled=<file>` it reads human-labelled answers instead, in the format of UQ's
released dev and diamond sets and of HLE-style labelled answers, one JSON object a line:

    {"question_id": "q1", "title": "...", "body": "<question>", "answer": "<the answer to validate>",
     "correct": true, "reference": "<known answer, optional>", "model": "<who wrote the answer, optional>"}

Aliases: question for body, response for answer, label / is_correct / judge_label for correct (true/false,
yes/no, correct/incorrect, 1/0), gold / correct_answer for reference, answer_model for model. A bad line is an
error naming the file, the line and the field.
"""

import random
from pathlib import Path
from typing import Any, Dict, List

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

from helm_plugins.common.jsonl import read_jsonl_rows
from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems

RELEASED_DATASET = "uq-project/uq"
REQUIRED_FIELDS = ("question_id", "title", "body")
LICENSE = "CC BY-SA 4.0 (Stack Exchange content, via the UQ dataset)"


def read_questions(path: Path) -> List[Dict[str, Any]]:
    """UQ-format questions from a JSONL file; a line without question_id, title or body is an error naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"UQ questions file {path} not found (JSONL with question_id, title, body, ...)")
    questions = []
    for number, record in read_jsonl_rows(path):
        missing = [f for f in REQUIRED_FIELDS if not isinstance(record.get(f), str) or not record[f].strip()]
        if missing:
            raise ValueError(f"{path}:{number}: missing or empty field(s) {', '.join(missing)}")
        questions.append(record)
    if not questions:
        raise ValueError(f"{path}: no questions (an empty question set cannot be evaluated)")
    return questions


def load_released_questions() -> List[Dict[str, Any]]:
    """The released UQ test split (500 questions) through `datasets`."""
    from datasets import load_dataset

    rows = load_dataset(RELEASED_DATASET, split="test")
    return [{**row, "license": LICENSE} for row in rows]


def generate_questions(num: int, seed: int) -> List[Dict[str, Any]]:
    """Questions in UQ's format whose bodies are generated arithmetic word problems (offline stand-ins)."""
    problems = generate_arithmetic_problems(num, seed, "test")
    return [
        {"question_id": f"gen{seed}-{i}", "title": "How many are there now?", "body": p.question, "tags": ["arithmetic"],
         "site": "generated", "category": "Math", "votes": 0, "views": 0, "comments": []}
        for i, p in enumerate(problems)
    ]


def question_text(question: Dict[str, Any]) -> str:
    return f"{question['title']}\n\n{question['body']}"


class UQScenario(Scenario):
    """Unsolved questions (UQ): the model answers, the UQ validators judge (metric `uq_pass`).

    Input: "Smallest n with property P?\\n\\nI have checked all n below 10^6 and ..."  References: none.
    """

    name = "hp_uq"
    description = "Unsolved Stack Exchange questions answered by the model and judged by UQ validators (arXiv 2508.17580)."
    tags = ["question_answering", "llm_judge", "open_ended"]

    def __init__(self, questions: str = "generated", num_questions: int = 20, seed: int = 0):
        super().__init__()
        self.questions = questions
        self.num_questions = num_questions
        self.seed = seed

    def load(self) -> List[Dict[str, Any]]:
        if self.questions == "generated":
            return generate_questions(self.num_questions, self.seed)
        if self.questions == "released":
            return load_released_questions()
        return read_questions(Path(self.questions))

    def get_instances(self, output_path: str) -> List[Instance]:
        questions = self.load()
        if not questions:
            raise ValueError(f"UQ questions {self.questions!r}: empty question set")
        return [
            Instance(
                Input(text=question_text(q)),
                references=[],
                split=TEST_SPLIT,
                id=f"id{i}",
                extra_data={k: q.get(k) for k in ("question_id", "title", "body", "site", "category", "tags", "license")},
            )
            for i, q in enumerate(questions)
        ]

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name=self.name,
            display_name="UQ (unsolved questions)",
            description=self.description,
            taxonomy=TaxonomyInfo(task="open question answering", what="unanswered Stack Exchange questions",
                                  who="Stack Exchange users", when="2010s–2025", language="English"),
            main_metric="uq_pass",
            main_split=TEST_SPLIT,
        )


PRIMES = [n for n in range(101, 1000) if all(n % d for d in range(2, int(n ** 0.5) + 1))]
LABEL_VALUES = {"true": True, "yes": True, "correct": True, "1": True, "false": False, "no": False,
                "incorrect": False, "0": False}


def _first(row: Dict[str, Any], *keys: str):
    return next((row[k] for k in keys if row.get(k) not in (None, "")), None)


def read_labelled_answers(path: Path) -> List[Dict[str, Any]]:
    """Human-labelled answers (UQ dev/diamond, HLE style) from JSONL; see the module docstring for the fields."""
    if not path.is_file():
        raise FileNotFoundError(f"labelled answers file {path} not found (JSONL with body, answer, correct, ...)")
    rows = []
    for number, row in read_jsonl_rows(path):
        body, answer = _first(row, "body", "question"), _first(row, "answer", "response")
        label = _first(row, "correct", "label", "is_correct", "judge_label")
        missing = [name for name, value in (("body (or question)", body), ("answer (or response)", answer),
                                            ("correct (or label)", label)) if value is None]
        if missing:
            raise ValueError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        correct = LABEL_VALUES.get(str(label).strip().lower())
        if correct is None:
            raise ValueError(f"{path}:{number}: field correct: {label!r} is not a label "
                             f"(one of {', '.join(sorted(LABEL_VALUES))})")
        reference = _first(row, "reference", "gold", "correct_answer")
        rows.append({"question_id": str(row.get("question_id", number)), "title": str(row.get("title") or ""),
                     "body": str(body), "answer": str(answer), "correct": correct,
                     "reference": None if reference is None else str(reference),
                     "model": str(_first(row, "model", "answer_model") or "")})
    if not rows:
        raise ValueError(f"{path}: no labelled answers")
    return rows


def plant_wrong(solution: str, rng: random.Random) -> str:
    """The solution with its final number changed (and the worked line stating it)."""
    answer = solution.rsplit(" ", 1)[-1].rstrip(".")
    wrong = str(int(answer) + rng.choice([-11, -10, -2, -1, 1, 2, 9, 10]))
    head, _, tail = solution.rpartition(f"= {answer}.")  # the stated result, not an equal intermediate step
    return f"{head}= {wrong}.{tail}".replace(f"answer is {answer}", f"answer is {wrong}")


class UQMetaEvalScenario(Scenario):
    """Known-answer questions with planted right and wrong answers, to measure UQ validators.

    Input: "Nora has 47 shells. She finds 38 more. How many shells does Nora have now?"
    Reference: the worked solution (answer 85). Extra data: planted answer "... The answer is 86.", planted_correct false.
    """

    name = "hp_uq_meta"
    description = "Validator precision/recall on planted right and wrong answers, and the generator–validator gap."
    tags = ["llm_judge", "meta_evaluation", "synthetic"]

    def __init__(self, num_questions: int = 40, seed: int = 0, labelled: str = "", questions: str = "arithmetic"):
        super().__init__()
        self.num_questions = num_questions
        self.seed = seed
        self.labelled = labelled
        if questions not in ("arithmetic", "factoring"):
            raise ValueError(f"UQ meta-evaluation questions {questions!r}: use 'arithmetic' or 'factoring'")
        self.questions = questions

    def factoring_instances(self) -> List[Instance]:
        """Hard to answer, easy to check: factor a product of two 3-digit primes. A planted wrong answer swaps one
        factor for a nearby prime, so multiplying the stated factors shows it is wrong — the kind of question on
        which a model can validate better than it answers (a positive generator–validator gap)."""
        rng = random.Random(self.seed)
        instances = []
        for i in range(self.num_questions):
            p, q = sorted(rng.sample(PRIMES, 2))
            product = p * q
            correct = rng.random() < 0.5
            shown = (p, q) if correct else tuple(sorted((p, PRIMES[(PRIMES.index(q) + rng.choice([-1, 1])) % len(PRIMES)])))
            body = f"Find the two prime numbers whose product is {product}."
            instances.append(Instance(
                Input(text=body), references=[Reference(Output(text=f"{p} × {q}"), tags=[CORRECT_TAG])],
                split=TEST_SPLIT, id=f"id{i}",
                extra_data={"title": "Which two primes?", "body": body, "product": product,
                            "planted_answer": f"The two prime numbers whose product is {product} are {shown[0]} and "
                                              f"{shown[1]}, since {shown[0]} × {shown[1]} = {product}.",
                            "planted_correct": correct and shown == (p, q)},
            ))
        return instances

    def labelled_instances(self) -> List[Instance]:
        instances = []
        for i, row in enumerate(read_labelled_answers(Path(self.labelled))):
            text = f"{row['title']}\n\n{row['body']}" if row["title"] else row["body"]
            references = [] if row["reference"] is None else [Reference(Output(text=row["reference"]), tags=[CORRECT_TAG])]
            instances.append(Instance(
                Input(text=text), references=references, split=TEST_SPLIT, id=f"id{i}",
                extra_data={"question_id": row["question_id"], "title": row["title"], "body": row["body"],
                            "planted_answer": row["answer"], "planted_correct": row["correct"],
                            "answer_model": row["model"]},
            ))
        return instances

    def get_instances(self, output_path: str) -> List[Instance]:
        if self.labelled:
            return self.labelled_instances()
        if self.questions == "factoring":
            return self.factoring_instances()
        rng = random.Random(self.seed)
        instances = []
        for i, (q, p) in enumerate(zip(generate_questions(self.num_questions, self.seed),
                                        generate_arithmetic_problems(self.num_questions, self.seed, "test"))):
            correct = rng.random() < 0.5
            planted = p.solution if correct else plant_wrong(p.solution, rng)
            instances.append(
                Instance(
                    Input(text=q["body"]),  # the format the arithmetic generator's questions are asked in
                    references=[Reference(Output(text=p.solution), tags=[CORRECT_TAG])],
                    split=TEST_SPLIT,
                    id=f"id{i}",
                    extra_data={"title": q["title"], "body": q["body"], "planted_answer": planted,
                                "planted_correct": correct},
                )
            )
        return instances

    def get_metadata(self) -> ScenarioMetadata:
        return ScenarioMetadata(
            name=self.name,
            display_name="UQ validator meta-evaluation",
            description=self.description,
            taxonomy=TaxonomyInfo(task="answer validation", what="planted answers to arithmetic questions",
                                  who="generator", when="n/a", language="English"),
            main_metric="uq_validator_accuracy",
            main_split=TEST_SPLIT,
        )
