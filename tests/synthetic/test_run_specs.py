"""The synthetic run specs make HELM render exactly the prompts the default model was trained on."""

import dataclasses

import pytest
from helm.benchmark.adaptation.adapters.adapter_factory import AdapterFactory
from helm.benchmark.config_registry import register_builtin_configs_from_helm_package
from helm.benchmark.window_services.tokenizer_service import TokenizerService
from helm.common.cache_backend_config import BlackHoleCacheBackendConfig
from helm.common.local_context import LocalContext

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.fact_world import WORLD_QUIZ_INSTRUCTIONS, generate_closed_book_questions, generate_fact_questions
from helm_plugins.synthetic.prompts import (
    arithmetic_example_block,
    fact_example_block,
    render_arithmetic_prompt,
    render_fact_option_prompt,
    render_fact_prompt,
)
from helm_plugins.synthetic.run_specs import get_synthetic_arithmetic_spec, get_synthetic_fact_world_spec
from helm_plugins.synthetic.scenarios import NUM_TRAIN_INSTANCES, SyntheticArithmeticScenario, SyntheticFactWorldScenario


@pytest.fixture(scope="module")
def tokenizer_service(tmp_path_factory):
    register_builtin_configs_from_helm_package()
    context = LocalContext(base_path=str(tmp_path_factory.mktemp("helm")), cache_backend_config=BlackHoleCacheBackendConfig())
    return TokenizerService(context)


def _prompts(run_spec, scenario, tokenizer_service, max_train_instances=0):
    adapter_spec = dataclasses.replace(
        run_spec.adapter_spec,
        model="simple/model1",
        model_deployment="simple/model1",
        max_train_instances=max_train_instances,
    )
    adapter = AdapterFactory.get_adapter(adapter_spec, tokenizer_service)
    states = adapter.adapt(scenario.get_instances(""), parallelism=1)
    return [state.request.prompt for state in states]


def test_arithmetic_prompts_match_training_format(tokenizer_service):
    scenario = SyntheticArithmeticScenario(num_instances=30, seed=3)
    problems = generate_arithmetic_problems(30, 3, "test")
    prompts = _prompts(get_synthetic_arithmetic_spec(num_instances=30, seed=3), scenario, tokenizer_service)
    assert prompts == [render_arithmetic_prompt(problem) for problem in problems]


@pytest.mark.parametrize("closed_book", [False, True])
def test_fact_world_joint_prompts_match_training_format(tokenizer_service, closed_book):
    scenario = SyntheticFactWorldScenario(num_instances=30, seed=3, closed_book=closed_book)
    generate = generate_closed_book_questions if closed_book else generate_fact_questions
    run_spec = get_synthetic_fact_world_spec(num_instances=30, seed=3, closed_book=closed_book)
    assert run_spec.adapter_spec.method == "multiple_choice_joint"
    prompts = _prompts(run_spec, scenario, tokenizer_service)
    assert prompts == [render_fact_prompt(q, closed_book=closed_book) for q in generate(30, 3, "test")]


def test_fact_world_separate_prompts_are_the_short_answer_format(tokenizer_service):
    scenario = SyntheticFactWorldScenario(num_instances=10, seed=0, closed_book=True)
    run_spec = get_synthetic_fact_world_spec(num_instances=10, closed_book=True, method="separate")
    assert run_spec.adapter_spec.method == "multiple_choice_separate_original"
    prompts = _prompts(run_spec, scenario, tokenizer_service)
    expected = [render_fact_option_prompt(q, option) for q in generate_closed_book_questions(10, 0, "test") for option in q.options]
    assert prompts == expected
    assert expected[0].startswith(WORLD_QUIZ_INSTRUCTIONS + "\n\nQuestion: ")


def test_few_shot_prompts_match_training_format(tokenizer_service):
    scenario = SyntheticArithmeticScenario(num_instances=5, seed=0)
    problems = generate_arithmetic_problems(5, 0, "test")
    pool = generate_arithmetic_problems(NUM_TRAIN_INSTANCES, 0, "train")
    prompts = _prompts(get_synthetic_arithmetic_spec(num_instances=5), scenario, tokenizer_service, max_train_instances=2)
    for prompt, problem in zip(prompts, problems):
        positions = sorted(
            (prompt.find(arithmetic_example_block(p, with_answer=True)), i) for i, p in enumerate(pool)
        )
        examples = [pool[i] for position, i in positions if position >= 0]
        assert len(examples) == 2
        assert prompt == render_arithmetic_prompt(problem, examples)
    fact_pool = generate_closed_book_questions(NUM_TRAIN_INSTANCES, 0, "train")
    run_spec = get_synthetic_fact_world_spec(num_instances=5, closed_book=True)
    fact_prompts = _prompts(run_spec, SyntheticFactWorldScenario(5, 0, closed_book=True), tokenizer_service, 1)
    for prompt, question in zip(fact_prompts, generate_closed_book_questions(5, 0, "test")):
        examples = [q for q in fact_pool if fact_example_block(q, with_answer=True) in prompt]
        assert len(examples) == 1
        assert prompt == render_fact_prompt(question, examples, closed_book=True)
