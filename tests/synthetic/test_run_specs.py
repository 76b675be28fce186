"""The synthetic run specs make HELM render exactly the prompts the default model was trained on."""

import dataclasses

import pytest
from helm.benchmark.adaptation.adapters.adapter_factory import AdapterFactory
from helm.benchmark.config_registry import register_builtin_configs_from_helm_package
from helm.benchmark.window_services.tokenizer_service import TokenizerService
from helm.common.cache_backend_config import BlackHoleCacheBackendConfig
from helm.common.local_context import LocalContext

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.fact_world import generate_fact_questions
from helm_plugins.synthetic.prompts import (
    arithmetic_example_block,
    fact_example_block,
    render_arithmetic_prompt,
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


@pytest.mark.parametrize("chain_of_thought", [False, True])
def test_fact_world_prompts_match_training_format(tokenizer_service, chain_of_thought):
    scenario = SyntheticFactWorldScenario(num_instances=30, seed=3)
    questions = generate_fact_questions(30, 3, "test")
    run_spec = get_synthetic_fact_world_spec(num_instances=30, seed=3, chain_of_thought=chain_of_thought)
    prompts = _prompts(run_spec, scenario, tokenizer_service)
    assert prompts == [render_fact_prompt(question, chain_of_thought=chain_of_thought) for question in questions]


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
    fact_pool = generate_fact_questions(NUM_TRAIN_INSTANCES, 0, "train")
    for cot in (False, True):
        run_spec = get_synthetic_fact_world_spec(num_instances=5, chain_of_thought=cot)
        fact_prompts = _prompts(run_spec, SyntheticFactWorldScenario(5, 0), tokenizer_service, 1)
        for prompt, question in zip(fact_prompts, generate_fact_questions(5, 0, "test")):
            examples = [q for q in fact_pool if fact_example_block(q, True, chain_of_thought=cot) in prompt]
            assert len(examples) == 1
            assert prompt == render_fact_prompt(question, examples, chain_of_thought=cot)
