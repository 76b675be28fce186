import pytest
from helm.benchmark.run_spec import get_run_spec_function
from helm.common.object_spec import parse_object_spec

import helm_plugins.plugin  # noqa: F401  (registers run specs and the embedded model)
from helm_plugins.common.run_entries import RunEntryError, plugin_run_spec_function
from helm_plugins.synthetic.run_specs import get_synthetic_arithmetic_spec


def construct(description):
    from helm.benchmark import run_spec_factory

    return run_spec_factory.construct_run_specs(parse_object_spec(description))


def test_valid_entry_builds_a_run_spec_with_its_arguments_in_the_name():
    (run_spec,) = construct("hp_synthetic_arithmetic:num_instances=7,seed=2,model=helm-plugins/tiny-default")
    assert run_spec.name == "hp_synthetic_arithmetic:num_instances=7,seed=2,model=helm-plugins_tiny-default"
    assert run_spec.scenario_spec.args == {"num_instances": 7, "seed": 2}
    assert run_spec.adapter_spec.model_deployment == "helm-plugins/tiny-default"


def test_unknown_argument_names_entry_and_suggests():
    with pytest.raises(RunEntryError) as error:
        construct("hp_synthetic_arithmetic:num_instance=3,model=helm-plugins/tiny-default")
    message = str(error.value)
    assert "hp_synthetic_arithmetic:num_instance=3" in message
    assert "unknown argument 'num_instance'" in message and "Did you mean 'num_instances'" in message


def test_bad_values_name_the_argument():
    with pytest.raises(RunEntryError, match=r"argument num_instances='abc': Input should be a valid integer"):
        construct("hp_synthetic_fact_world:num_instances=abc,model=helm-plugins/tiny-default")
    with pytest.raises(RunEntryError, match=r"argument num_instances=0: Input should be greater than 0"):
        construct("hp_synthetic_fact_world:num_instances=0,model=helm-plugins/tiny-default")


def test_unknown_model_and_run_spec_name_the_entry():
    with pytest.raises(RunEntryError) as error:
        construct("hp_synthetic_arithmetic:model=helm-plugins/tiny-defualt")
    assert "run entry 'hp_synthetic_arithmetic:model=helm-plugins/tiny-defualt'" in str(error.value)
    assert "Unknown model" in str(error.value) and "Did you mean 'helm-plugins/tiny-default'" in str(error.value)
    with pytest.raises(RunEntryError, match="Unknown run spec name: hp_synthetic_arithmatic. Did you mean 'hp_synthetic_arithmetic'"):
        construct("hp_synthetic_arithmatic:model=helm-plugins/tiny-default")


def test_registered_function_validates_and_the_module_function_stays_plain():
    with pytest.raises(RunEntryError, match="argument seed='x'"):
        get_run_spec_function("hp_synthetic_arithmetic")(seed="x")
    assert get_synthetic_arithmetic_spec(num_instances=3).scenario_spec.args["num_instances"] == 3


def test_names_must_carry_the_prefix():
    with pytest.raises(ValueError, match="must start with 'hp_'"):
        plugin_run_spec_function("gsm8k")
