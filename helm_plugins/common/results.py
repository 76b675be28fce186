"""Write a runner's results as a HELM run directory, using HELM's own classes and serialisation.

helm-summarize and helm-server read these files exactly as they read helm-run's, so training-side runs
(pretraining, speculative decoding, RL) appear in the same leaderboard tables and run pages:

    benchmark_output/runs/<suite>/<run name>/
        run_spec.json  scenario.json  stats.json  per_instance_stats.json  scenario_state.json
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.metrics.metric import PerInstanceStats
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.statistic import Stat
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import (
    CORRECT_TAG,
    TEST_SPLIT,
    Input,
    Instance,
    Output,
    Reference,
    ScenarioSpec,
)
from helm.common.general import asdict_without_nones
from helm.common.request import GeneratedOutput, Request, RequestResult

Number = Union[int, float]


def make_stat(name: str, values: Union[Number, Sequence[Number]], split: str = TEST_SPLIT) -> Stat:
    stat = Stat(MetricName(name, split=split))
    for value in [values] if isinstance(values, (int, float)) else values:
        stat.add(float(value))
    return stat


@dataclass(frozen=True)
class RunInstance:
    """One unit of a runner's output, shown as an instance on the run page."""

    id: str
    input: str
    output: str
    stats: Mapping[str, Number]
    reference: Optional[str] = None
    split: str = TEST_SPLIT


@dataclass(frozen=True)
class RunRecord:
    """What a runner reports; `name` follows HELM's `scenario:arg=value,...,model=org_name` convention."""

    name: str
    scenario_name: str
    scenario_description: str
    scenario_class: str
    scenario_args: Mapping[str, object]
    model: str
    method: str
    groups: Sequence[str]
    stats: Sequence[Stat]
    instances: Sequence[RunInstance] = ()
    tags: Sequence[str] = field(default_factory=list)
    max_tokens: int = 0  # tokens generated per instance output, if any (shown on the run page)
    temperature: float = 0.0  # sampling temperature of the outputs, if any (a table may show it beside the model)


def _request_state(record: RunRecord, instance: RunInstance) -> RequestState:
    references = [Reference(Output(text=instance.reference), tags=[CORRECT_TAG])] if instance.reference else []
    return RequestState(
        instance=Instance(Input(text=instance.input), references=references, split=instance.split, id=instance.id),
        reference_index=None,
        request_mode=None,
        train_trial_index=0,
        output_mapping=None,
        request=Request(
            model=record.model,
            model_deployment=record.model,
            prompt=instance.input,
            temperature=record.temperature,
            num_completions=1,
            max_tokens=record.max_tokens,
        ),
        result=RequestResult(
            success=True,
            embedding=[],
            completions=[GeneratedOutput(text=instance.output, logprob=0.0, tokens=[])],
            cached=False,
        ),
        num_train_instances=0,
        prompt_truncated=False,
    )


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(value, indent=2))
    tmp.replace(path)


def write_run_directory(suite_dir: Path, record: RunRecord) -> Path:
    """Write the five run files under `suite_dir / <run name>` and return that directory."""
    adapter_spec = AdapterSpec(  # HELM's prompt fields do not apply to a runner: neutral values on the run page
        method=record.method,
        model=record.model,
        model_deployment=record.model,
        input_prefix="",
        output_prefix="",
        reference_prefix="",
        max_train_instances=0,
        num_outputs=1,
        temperature=record.temperature,
        max_tokens=record.max_tokens,
    )
    run_spec = RunSpec(
        name=record.name,
        scenario_spec=ScenarioSpec(class_name=record.scenario_class, args=dict(record.scenario_args)),
        adapter_spec=adapter_spec,
        metric_specs=[],
        groups=list(record.groups),
    )
    run_dir = Path(suite_dir) / run_spec.name
    run_dir.mkdir(parents=True, exist_ok=True)
    scenario_state = ScenarioState(
        adapter_spec=adapter_spec,
        request_states=[_request_state(record, instance) for instance in record.instances],
    )
    per_instance = [
        PerInstanceStats(
            instance_id=instance.id,
            perturbation=None,
            train_trial_index=0,
            stats=[make_stat(name, value, instance.split) for name, value in instance.stats.items()],
        )
        for instance in record.instances
    ]
    scenario: Dict[str, object] = {
        "name": record.scenario_name,
        "description": record.scenario_description,
        "tags": list(record.tags),
    }
    _write_json(run_dir / "scenario.json", scenario)
    _write_json(run_dir / "scenario_state.json", asdict_without_nones(scenario_state))
    _write_json(run_dir / "stats.json", [asdict_without_nones(stat) for stat in record.stats])
    _write_json(run_dir / "per_instance_stats.json", [asdict_without_nones(p) for p in per_instance])
    _write_json(run_dir / "run_spec.json", asdict_without_nones(run_spec))  # last: marks the run as complete
    return run_dir


def read_stats(run_dir: Path) -> Dict[str, float]:
    """`{"name" or "name@split": mean}` of a run directory's stats.json (test split names are bare)."""
    stats = json.loads((Path(run_dir) / "stats.json").read_text())
    table: Dict[str, float] = {}
    for stat in stats:
        name = stat["name"]
        if name.get("perturbation") or name.get("sub_split"):
            continue
        key = name["name"] if name["split"] == TEST_SPLIT else f"{name['name']}@{name['split']}"
        table[key] = stat.get("mean")
    return table

