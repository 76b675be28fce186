"""Training documents in the prompt formats the suite sends: HELM prompts, DSPy field formats, judge prompts.

The documents of `helm-plugins/tiny-chat` are chat transcripts rendered with its chat template (`CHAT_TEMPLATE`,
shipped in the tokenizer config, so HELM's Hugging Face client renders requests exactly as the documents are):

    <|system|>\\n{system}<|endoftext|><|user|>\\n{prompt}<|endoftext|><|assistant|>\\n{reply}<|endoftext|>

The kinds (see `CHAT_KINDS`), all built on the synthetic tasks' training splits only (arithmetic training operand
pairs, closed-book training pairs, freshly sampled passage worlds of the "train" stream):

- `helm_arithmetic`: HELM's arithmetic prompt (0-2 solved examples) answered with the worked solution;
- `dspy_predict` / `dspy_cot`: DSPy's ChatAdapter messages for `dspy.Predict("inputs -> output")` and
  `dspy.ChainOfThought(...)` whose `inputs` is the HELM prompt, with 0-6 demos (labelled and bootstrapped, as
  DSPy's optimisers build them), and the reply in DSPy's field-marker format. Predict replies give the answer
  directly (the bare number or letter), chain of thought writes the worked solution in `reasoning` first;
- `dspy_json`: the same through DSPy's JSONAdapter (DSPy's fallback when a reply does not parse);
- `helm_choice`: HELM's multiple-choice prompt answered with the option letter;
- `judge`: the UQ validators' prompts (read from their templates) on worked answers that are right or have a
  wrong final result; validators whose prompt asks for an explanation check the sum digit by digit before the
  `[[Y]]`/`[[N]]` verdict, the vanilla validator answers with the verdict alone;
- `open_answer`: HELM's open-question prompt (UQ's instructions) answered with the worked solution.

The messages are rendered by DSPy's own adapters, so the field markers, instructions and demo layout are the ones
DSPy sends; a test checks that the shipped tokenizer's chat template renders them identically.
"""

import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from helm_plugins.synthetic.arithmetic import ArithmeticProblem, generate_arithmetic_problems, worked_solution
from helm_plugins.synthetic.fact_world import FactQuestion, generate_closed_book_questions, generate_fact_questions
from helm_plugins.synthetic.prompts import option_letter, render_arithmetic_prompt, render_fact_prompt

END_OF_TEXT = "<|endoftext|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|endoftext|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
Messages = List[Dict[str, str]]

SIGNATURE = "inputs -> output"
DEFAULT_INSTRUCTIONS = "Given the fields `inputs`, produce the fields `output`."
# Instructions an optimiser may propose instead of the default (MIPROv2, GEPA): the model should keep the format.
OTHER_INSTRUCTIONS = (
    "Solve the problem in `inputs` and give the final answer in `output`.",
    "Read the question in `inputs` carefully and write only the final answer in `output`.",
    "Work out the answer to the question and return it in the field `output`.",
    "Answer the question given in `inputs`.",
)
UQ_TITLE = "How many are there now?"  # the title of the generated UQ questions
UQ_INSTRUCTIONS = "Answer the question. Give a complete answer with your reasoning."
JUDGE_TEMPLATES = Path(__file__).resolve().parent.parent / "judges" / "uq" / "prompts"
MAX_DOCUMENT_CHARACTERS = 3000  # about 900 tokens: a document must fit the 1,024-token context with its reply
REASONING_VALIDATORS = ("correct", "factlogic", "final_answer")
DIRECT_VALIDATORS = ("vanilla", "relevance")


def render_chat(messages: Messages, add_generation_prompt: bool = False) -> str:
    """The chat template in Python (a test checks it equals the tokenizer's `apply_chat_template`)."""
    text = "".join(f"<|{m['role']}|>\n{m['content']}{END_OF_TEXT}" for m in messages)
    return text + ("<|assistant|>\n" if add_generation_prompt else "")


def chat_document(messages: Messages, reply: str) -> str:
    """A training document: the request rendered for generation, then the reply (the trainer adds the final
    end-of-text token)."""
    return render_chat(messages, add_generation_prompt=True) + reply


# ----- task items: (HELM prompt, direct answer, worked reasoning) -----


class Item:
    """One task instance as DSPy sees it: `inputs` is the HELM prompt; `output` the gold field value."""

    def __init__(self, inputs: str, output: str, reasoning: str):
        self.inputs, self.output, self.reasoning = inputs, output, reasoning


def arithmetic_item(problem: ArithmeticProblem) -> Item:
    return Item(render_arithmetic_prompt(problem), str(problem.answer), problem.solution)


def choice_item(question: FactQuestion, closed_book: bool) -> Item:
    letter = option_letter(question.correct_index)
    correct = question.options[question.correct_index]
    reasoning = f"{question.explanation} {correct} is option {letter}. The answer is {letter}."
    return Item(render_fact_prompt(question, closed_book=closed_book), letter, reasoning)


# ----- DSPy formats -----


@lru_cache(maxsize=None)
def _signature(chain_of_thought: bool, instructions: str):
    import dspy

    module = dspy.ChainOfThought(SIGNATURE) if chain_of_thought else dspy.Predict(SIGNATURE)
    predictor = module.predict if chain_of_thought else module
    return predictor.signature.with_instructions(instructions)


def _demos(items: Sequence[Item], bootstrapped: Sequence[bool], chain_of_thought: bool):
    """DSPy demos: bootstrapped ones carry every field (with reasoning for chain of thought), labelled ones only
    inputs and output (DSPy marks the missing reasoning as not supplied)."""
    import dspy

    demos = []
    for item, full in zip(items, bootstrapped):
        fields = {"inputs": item.inputs, "output": item.output}
        if chain_of_thought and full:
            fields["reasoning"] = item.reasoning
        demos.append(dspy.Example(**fields).with_inputs("inputs"))
    return demos


def dspy_document(item: Item, demo_items: Sequence[Item], bootstrapped: Sequence[bool], chain_of_thought: bool,
                  instructions: str, json_format: bool = False) -> str:
    import dspy

    adapter = dspy.JSONAdapter() if json_format else dspy.ChatAdapter()
    signature = _signature(chain_of_thought, instructions)
    messages = adapter.format(signature, _demos(demo_items, bootstrapped, chain_of_thought), {"inputs": item.inputs})
    fields = {"reasoning": item.reasoning, "output": item.output} if chain_of_thought else {"output": item.output}
    if json_format:
        reply = json.dumps(fields, indent=2)
    else:
        reply = adapter.format_assistant_message_content(signature, fields)
    return chat_document(messages, reply)


# ----- judge prompts (UQ validators) -----


@lru_cache(maxsize=1)
def _judge_environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(JUDGE_TEMPLATES)), keep_trailing_newline=False,
                              undefined=jinja2.StrictUndefined)


def render_judge(template: str, **variables) -> str:
    return _judge_environment().get_template(f"{template}.jinja").render(**variables)


def wrong_solution(problem: ArithmeticProblem, rng: random.Random) -> Tuple[str, int]:
    """The worked solution with its final result changed (as the UQ meta-evaluation plants wrong answers)."""
    wrong = problem.answer + rng.choice([-11, -10, -2, -1, 1, 2, 9, 10])
    head, _, tail = problem.solution.rpartition(f"= {problem.answer}.")
    text = f"{head}= {wrong}.{tail}".replace(f"answer is {problem.answer}", f"answer is {wrong}")
    return text, wrong


def _recomputation(problem: ArithmeticProblem) -> str:
    """The worked solution up to its result ("a + b. Ones: ... So a + b = r."), without "The answer is r."."""
    return worked_solution(problem.a, problem.b, problem.op).rsplit(" The answer is", 1)[0]


def check_text(problem: ArithmeticProblem, stated: int) -> str:
    """A worked check of an answer stating `stated`: recompute, compare, conclude."""
    redo = _recomputation(problem)
    verdict = "correct" if stated == problem.answer else "wrong"
    return f"Check: {redo} The answer gives {stated}, which is {verdict}."


PLACES = ("ones", "tens", "hundreds", "thousands")


def compare_text(problem: ArithmeticProblem, stated: int) -> str:
    """A check that compares explicitly: quote the result of the answer under review, recompute it, then compare
    the two digit by digit from the right (each decision reads two digits just written), and conclude from that."""
    redo = _recomputation(problem)
    computed, shown = str(problem.answer), str(abs(stated))
    width = max(len(computed), len(shown))
    computed, shown = computed.zfill(width), shown.zfill(width)
    places = [f"{PLACES[i]} {computed[-1 - i]} and {shown[-1 - i]} {'same' if computed[-1 - i] == shown[-1 - i] else 'differ'}"
              for i in range(width)]
    if stated < 0:  # a planted result below zero: its digits may match, its sign does not
        places.append("signs differ")
    conclusion = "correct" if stated == problem.answer else "wrong"
    return (f"The answer under review says {stated}. Check: {redo} Compare {problem.answer} with {stated}: "
            f"{', '.join(places)}. So the answer is {conclusion}.")


def judge_document(problem: ArithmeticProblem, rng: random.Random, check: Callable[[ArithmeticProblem, int], str] = check_text) -> str:
    right = rng.random() < 0.5
    answer, stated = (problem.solution, problem.answer) if right else wrong_solution(problem, rng)
    variables = {"title": UQ_TITLE, "body": problem.question, "answer": answer}
    roll = rng.random()
    if roll < 0.5:
        validator = rng.choice(REASONING_VALIDATORS)
        prompt = render_judge(validator, **variables)
        reply = check(problem, stated) + (" [[Y]]" if right else " [[N]]")
    elif roll < 0.7:
        validator = rng.choice(DIRECT_VALIDATORS)
        prompt = render_judge(validator, **variables)
        # relevance asks whether the answer addresses the question: it does (same numbers and operation)
        reply = "[[Y]]" if (right or validator == "relevance") else "[[N]]"
    elif roll < 0.8:
        prompt = render_judge("cycle_infer", answer=answer)
        reply = f"{UQ_TITLE}\n{problem.question}" if rng.random() < 0.5 else f"What is {problem.a} {problem.op} {problem.b}?"
    elif roll < 0.9:
        same = rng.random() < 0.7
        other = problem if same else next(
            p for p in generate_arithmetic_problems(4, f"cycle:{rng.random()}", "train") if (p.a, p.b) != (problem.a, problem.b))
        inferred = f"What is {other.a} {other.op} {other.b}?"
        prompt = render_judge("cycle_compare", title=UQ_TITLE, body=problem.question, inferred=inferred)
        reply = (f"Both ask for {problem.a} {problem.op} {problem.b}. [[Y]]" if same else
                 f"The original asks for {problem.a} {problem.op} {problem.b}, the other for {other.a} {other.op} "
                 f"{other.b}. [[N]]")
    else:
        validator = rng.choice(REASONING_VALIDATORS)
        first = render_judge(validator, **variables)
        previous = check(problem, stated) + (" [[Y]]" if right else " [[N]]")
        prompt = render_judge("reflection", prompt=first, previous=previous)
        reply = check(problem, stated) + (" [[Y]]" if right else " [[N]]")
    return chat_document([{"role": "user", "content": prompt}], reply)


# ----- document kinds -----


def _arithmetic_items(n: int, seed: str) -> Iterator[ArithmeticProblem]:
    return iter(generate_arithmetic_problems(n, seed, split="train"))


def _choice_items(n: int, seed: str, rng: random.Random) -> Iterator[Item]:
    closed = generate_closed_book_questions(n, f"chat:{seed}", split="train")
    passage = generate_fact_questions(n, f"chat:{seed}", split="train")
    for c, p in zip(closed, passage):
        yield choice_item(c, True) if rng.random() < 0.5 else choice_item(p, False)


def _dspy_kind(chain_of_thought: bool, json_format: bool = False) -> Callable[[int, str], Iterator[str]]:
    def generate(n: int, seed: str) -> Iterator[str]:
        rng = random.Random(f"chat:dspy:{chain_of_thought}:{json_format}:{seed}")
        arithmetic = (arithmetic_item(p) for p in _arithmetic_items(5 * n, f"dspy{chain_of_thought}{json_format}:{seed}"))
        choices = _choice_items(2 * n, f"dspy{chain_of_thought}{json_format}:{seed}", rng)
        for _ in range(n):
            pool = arithmetic if rng.random() < 0.8 else choices
            num_demos = rng.choice((0, 0, 0, 1, 2, 3, 4, 6)) if not json_format else rng.choice((0, 0, 1, 2))
            demos = [next(pool) for _ in range(num_demos)]
            bootstrapped = [rng.random() < 0.5 for _ in demos]
            instructions = DEFAULT_INSTRUCTIONS if rng.random() < 0.8 else rng.choice(OTHER_INSTRUCTIONS)
            item = next(pool)
            document = dspy_document(item, demos, bootstrapped, chain_of_thought, instructions, json_format)
            while len(document) > MAX_DOCUMENT_CHARACTERS and demos:  # too long for the context: fewer demos
                demos, bootstrapped = demos[:-1], bootstrapped[:-1]
                document = dspy_document(item, demos, bootstrapped, chain_of_thought, instructions, json_format)
            yield document

    return generate


def _helm_arithmetic(n: int, seed: str) -> Iterator[str]:
    rng = random.Random(f"chat:helm_arithmetic:{seed}")
    problems = _arithmetic_items(4 * n, f"helm:{seed}")
    for _ in range(n):
        examples = [next(problems) for _ in range(rng.choices((0, 1, 2), (0.7, 0.2, 0.1))[0])]
        problem = next(problems)
        yield chat_document([{"role": "user", "content": render_arithmetic_prompt(problem, examples)}], problem.solution)


def _helm_choice(n: int, seed: str) -> Iterator[str]:
    rng = random.Random(f"chat:helm_choice:{seed}")
    for item in _choice_items(n, f"helm:{seed}", rng):
        yield chat_document([{"role": "user", "content": item.inputs}], item.output)


def _judge(n: int, seed: str) -> Iterator[str]:
    rng = random.Random(f"chat:judge:{seed}")
    for problem in _arithmetic_items(n, f"judge:{seed}"):
        yield judge_document(problem, rng)


def _judge_compare(n: int, seed: str) -> Iterator[str]:
    rng = random.Random(f"chat:judge_compare:{seed}")
    for problem in _arithmetic_items(n, f"judge_compare:{seed}"):
        yield judge_document(problem, rng, check=compare_text)


def _open_answer(n: int, seed: str) -> Iterator[str]:
    for problem in _arithmetic_items(n, f"open:{seed}"):
        prompt = f"{UQ_INSTRUCTIONS}\n\n{UQ_TITLE}\n\n{problem.question}\n"
        yield chat_document([{"role": "user", "content": prompt}], problem.solution)


CHAT_KINDS: Dict[str, Callable[[int, str], Iterator[str]]] = {
    "helm_arithmetic": _helm_arithmetic,
    "helm_choice": _helm_choice,
    "dspy_predict": _dspy_kind(chain_of_thought=False),
    "dspy_cot": _dspy_kind(chain_of_thought=True),
    "dspy_json": lambda n, seed: _interleave(_dspy_kind(False, True)(n, seed), _dspy_kind(True, True)(n, seed), seed),
    "judge": _judge,
    "judge_compare": _judge_compare,
    "open_answer": _open_answer,
}


def _interleave(first: Iterator[str], second: Iterator[str], seed: str) -> Iterator[str]:
    rng = random.Random(f"chat:interleave:{seed}")
    while True:
        try:
            yield next(first) if rng.random() < 0.5 else next(second)
        except StopIteration:
            return


def generate_chat_documents(kind: str, n: int, seed: str) -> Optional[Iterator[str]]:
    return CHAT_KINDS[kind](n, seed)
