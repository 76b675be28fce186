import json
import re

import dspy
import pytest
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.benchmark.model_metadata_registry import INSTRUCTION_FOLLOWING_MODEL_TAG, get_model_metadata
from helm.common.cache import BlackHoleCacheConfig
from helm.common.request import Request
from helm.tokenizers.huggingface_tokenizer import HuggingFaceTokenizer
from transformers import AutoConfig, AutoTokenizer

import helm_plugins.plugin  # noqa: F401
from helm_plugins.common.judges import OK, parse_tag_verdict
from helm_plugins.models.clients import LocalCheckpointClient
from helm_plugins.models.registration import TINY_CHAT, TINY_CHAT_DIR, read_training_report
from helm_plugins.structured_prompting.benchmarks import extract_answer
from helm_plugins.structured_prompting.lm import HELMLM
from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.chat_formats import CHAT_TEMPLATE, UQ_TITLE, render_chat, render_judge, wrong_solution
from helm_plugins.synthetic.prompts import render_arithmetic_prompt

MAX_CHECKPOINT_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def client():
    tokenizer = HuggingFaceTokenizer(BlackHoleCacheConfig(), TINY_CHAT, pretrained_model_name_or_path=str(TINY_CHAT_DIR))
    args = get_model_deployment(TINY_CHAT).client_spec.args
    return LocalCheckpointClient(BlackHoleCacheConfig(), tokenizer, **{k: v for k, v in args.items() if k != "device"})


@pytest.fixture(scope="module")
def problems():
    return generate_arithmetic_problems(3, 0, "test")  # held-out operand pairs


def test_checkpoint_is_small_and_its_context_is_registered():
    assert sum(f.stat().st_size for f in TINY_CHAT_DIR.iterdir()) <= MAX_CHECKPOINT_BYTES
    report = read_training_report(TINY_CHAT_DIR)
    config = AutoConfig.from_pretrained(TINY_CHAT_DIR, local_files_only=True)
    assert config.n_positions == report["context_length"] >= 1024
    assert get_model_deployment(TINY_CHAT).max_sequence_length == config.n_positions
    assert get_model_metadata(TINY_CHAT).num_parameters == report["num_parameters"]
    assert INSTRUCTION_FOLLOWING_MODEL_TAG in get_model_metadata(TINY_CHAT).tags  # DSPy sends it messages
    assert report["config"]["run_name"] == "tiny-chat" and report["train_tokens"] > 1_000_000


def test_chat_template_renders_as_the_corpus():
    tokenizer = AutoTokenizer.from_pretrained(TINY_CHAT_DIR, local_files_only=True)
    assert json.loads((TINY_CHAT_DIR / "tokenizer_config.json").read_text())["chat_template"] == CHAT_TEMPLATE
    messages = [{"role": "system", "content": "Your input fields are:\n1. `inputs`"},
                {"role": "user", "content": "[[ ## inputs ## ]]\nQuestion: 2 + 2?"},
                {"role": "assistant", "content": "[[ ## output ## ]]\n4"}, {"role": "user", "content": "Again"}]
    assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == render_chat(messages, True)
    assert tokenizer.model_max_length == read_training_report(TINY_CHAT_DIR)["context_length"]


@pytest.mark.parametrize("module", ["predict", "cot"])
def test_answers_dspy_calls_with_parseable_fields(client, module):
    """Through HELM's client, the chat template and DSPy's ChatAdapter, as structured-prompting runs call it."""
    problems = generate_arithmetic_problems(3, 0, "test")  # the first held-out instances
    lm = HELMLM(client.make_request, TINY_CHAT, TINY_CHAT, max_tokens=120, temperature=0.0, chat=True)
    program = dspy.Predict("inputs -> output") if module == "predict" else dspy.ChainOfThought("inputs -> output")
    for problem in problems:
        with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
            prediction = program(inputs=render_arithmetic_prompt(problem))
        assert extract_answer("number", prediction.output) is not None, prediction
        if module == "cot":  # a worked solution (digit by digit) in the reasoning field
            assert re.search(r"\d+ [+-] \d+\. Ones: ", prediction.reasoning), prediction
    assert all(call.success for call in lm.call_log.records)
    assert lm.call_log.calls == len(problems)  # every reply parsed by ChatAdapter: DSPy never retried in JSON mode


def test_judge_prompt_ends_with_a_verdict_that_follows_a_digit_check(client, problems):
    """The `correct` validator on right and planted-wrong worked answers to the first held-out problems: a verdict
    tag every time, after a check that compares the stated result with a recomputed one; a judge at chance gets
    all six right one time in 64."""
    import random

    rng = random.Random(0)
    right_verdicts = 0
    for problem in problems:
        for answer, correct in ((problem.solution, True), (wrong_solution(problem, rng)[0], False)):
            prompt = render_judge("correct", title=UQ_TITLE, body=problem.question, answer=answer)
            reply = client.make_request(Request(model=TINY_CHAT, model_deployment=TINY_CHAT, prompt=prompt,
                                                max_tokens=160, temperature=0.0)).completions[0].text
            verdict = parse_tag_verdict(reply)
            assert verdict.status == OK, reply
            assert re.search(r"Compare \d+ with -?\d+: ones \d and \d (same|differ)", reply), reply
            right_verdicts += verdict.value is correct
    assert right_verdicts == 6
