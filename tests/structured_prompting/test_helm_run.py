"""The six methods through helm-run against a local OpenAI-compatible endpoint, the HELM cache, the ceiling
report and the leaderboard groups; and the offline conf on the embedded default model."""

import json
import shutil

import pytest

from tests.conftest import BIN, REPO, run_command
from tests.structured_prompting.fake_openai import FakeOpenAI, planted, synthetic_answer_key, write_prod_env

pytestmark = pytest.mark.slow
METHODS = ("helm", "predict", "cot", "bfrs", "miprov2", "gepa")
BUDGET = {"bfrs": ",candidates=2", "gepa": ",gepa_max_metric_calls=30"}


def entries(model):
    arithmetic = [f"hp_structured_prompting:benchmark=synthetic_arithmetic,method={m}{BUDGET.get(m, '')},model={model}"
                  for m in METHODS]
    fact_world = [f"hp_structured_prompting:benchmark=synthetic_fact_world,method={m},model={model}"
                  for m in ("helm", "predict", "cot")]
    overrides = [f"hp_structured_prompting:benchmark=synthetic_arithmetic,method=predict,max_tokens=77,model={model},"
                 "temperature=0.5"]
    return arithmetic + fact_world + overrides


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("sp")
    answers, wrong = synthetic_answer_key()
    malformed = [q for q in answers if planted(q, "garble", 0.3)]  # a planted share of questions the model garbles
    with FakeOpenAI(answers, wrong, {"helm": 0.5, "predict": 0.6, "cot": 0.85}, malformed=malformed) as fake:
        model = write_prod_env(root, fake.base_url)
        command = [BIN / "helm-run", "--run-entries", *entries(model), "--suite", "t", "-m", "12", "-n", "4"]
        run_command(command, cwd=root)
        first = list(fake.bodies)
        shutil.rmtree(root / "benchmark_output" / "dspy_programs")  # optimise again: all from HELM's cache now
        shutil.rmtree(root / "benchmark_output" / "runs" / "t")
        run_command(command, cwd=root)
        second = fake.bodies[len(first):]
    return root, first, second, malformed


def run_dirs(root):
    return {p.name: p for p in (root / "benchmark_output" / "runs" / "t").iterdir() if p.name.startswith("hp_")}


def test_all_six_methods_ran(suite):
    root, _, _, _ = suite
    names = run_dirs(root)
    for method in METHODS:
        assert any(f"method={method}," in n for n in names), method
    programs = sorted(p.parent.parent.name
                      for p in (root / "benchmark_output" / "dspy_programs").glob("*/*/*/seed0/*.meta.json"))
    assert programs == ["bfrs", "gepa", "miprov2"]


def test_second_identical_run_makes_zero_new_requests(suite):
    _, first, second, _ = suite
    assert len(first) > 100 and second == []


def test_prompt_structure_and_parameters_reach_the_server(suite):
    _, first, _, _ = suite
    dspy_requests = [r for r in first if r["messages"][0]["role"] == "system"]
    plain = [r for r in first if r["messages"][0]["role"] != "system"]
    assert plain and all("[[ ##" not in r["messages"][0]["content"] for r in plain)
    tokens = lambda r: r.get("max_completion_tokens", r.get("max_tokens"))  # noqa: E731
    assert {tokens(r) for r in plain} == {100, 1}  # HELM's own settings: arithmetic and fact-world letters
    assert {(tokens(r), r["temperature"]) for r in dspy_requests} >= {(4000, 0.0), (77, 0.5)}
    assert any("`reasoning`" in r["messages"][0]["content"] for r in dspy_requests)


def test_malformed_answers_are_scored_wrong_and_counted(suite):
    root, _, _, malformed = suite
    [cot] = [p for n, p in run_dirs(root).items() if "synthetic_arithmetic,method=cot" in n]
    states = json.loads((cot / "scenario_state.json").read_text())["request_states"]
    per_instance = {}
    for entry in json.loads((cot / "per_instance_stats.json").read_text()):
        per_instance.setdefault(entry["instance_id"], {}).update(
            {s["name"]["name"]: s["sum"] / s["count"] for s in entry["stats"] if "perturbation" not in s["name"] and s["count"]}
        )
    garbled = [s["instance"]["id"] for s in states if s["instance"]["input"]["text"] in malformed]
    assert garbled, "the planted malformed questions are among the evaluated ones"
    for instance_id in garbled:
        assert per_instance[instance_id]["sp_parse_failure"] == 1
        assert per_instance[instance_id]["final_number_exact_match"] == 0
    stats = {s["name"]["name"]: s.get("mean") for s in json.loads((cot / "stats.json").read_text())
             if s["name"].get("split") == "test" and "perturbation" not in s["name"]}
    assert stats["sp_parse_failure"] == pytest.approx(len(garbled) / len(states))


def test_ceiling_report_and_leaderboard_groups(suite):
    root, _, _, _ = suite
    completed = run_command([BIN / "helm-plugins", "ceiling", "--suite", "t", "--bootstrap-samples", "300"], cwd=root)
    assert "Ceiling summary" in completed.stdout and "synthetic_arithmetic" in completed.stdout
    out = root / "benchmark_output" / "runs" / "t" / "ceiling"
    report = json.loads((out / "ceiling.json").read_text())
    [cell] = [c for c in report["cells"] if c["benchmark"] == "synthetic_arithmetic"]
    assert set(cell["scores"]) == set(METHODS) and cell["ceiling_ci"][0] <= cell["ceiling"] <= cell["ceiling_ci"][1]
    assert (out / "methods_synthetic_arithmetic.png").stat().st_size > 0 and (out / "ranking_change.png").exists()
    summary = run_command([BIN / "helm-plugins", "summarize", "--suite", "t", "--num-threads", "1"],  # mako races
                          cwd=root)
    assert "does not have any stat matched" not in summary.stdout + summary.stderr  # unknown costs are undefined
    table = json.loads((root / "benchmark_output" / "runs" / "t" / "groups" / "hp_sp_synthetic_arithmetic.json").read_text())
    header = json.dumps(table[0]["header"])
    for short in ("HELM prompt", "Predict", "CoT", "BFRS", "MIPROv2", "GEPA"):
        assert short in header, short


def test_offline_conf_on_the_embedded_models(tmp_path):
    """Priority 1: tiny-chat's HELM-prompt, Predict, chain-of-thought and BFRS runs go to the benchmark's tables
    with every instance scored; tiny-default's MIPROv2 and GEPA runs are plumbing checks (its context cannot hold
    DSPy's prompts) in their own group, and no optimiser that got no reply saves a program."""
    run_command([BIN / "helm-run", "--conf-paths", REPO / "run_specs" / "structured_prompting.conf", "--priority", "1",
                 "--suite", "t", "-m", "4", "-n", "2"], cwd=tmp_path)
    names = run_dirs(tmp_path)
    assert len(names) == 8
    for name, path in names.items():
        groups = json.loads((path / "run_spec.json").read_text())["groups"]
        per_instance = json.loads((path / "per_instance_stats.json").read_text())
        assert len({entry["instance_id"] for entry in per_instance}) == 4, name  # every instance accounted for
        stats = {s["name"]["name"]: s.get("mean") for s in json.loads((path / "stats.json").read_text())
                 if s["name"].get("split") == "test" and "perturbation" not in s["name"]}
        if "plumbing_check" not in name:
            assert groups[0].startswith("hp_sp_synthetic_"), name
            if "tiny-chat" in name and "method=helm" not in name:
                assert stats["sp_request_failure"] == 0 and stats["sp_parse_failure"] <= 0.5, name
        else:
            assert groups == ["hp_sp_plumbing"] and "tiny-default" in name
            outcomes = stats["sp_parse_failure"] + stats["sp_request_failure"] + stats["sp_optimisation_failure"]
            assert outcomes <= 1.0 + 1e-9, name  # each instance has at most one failure kind
    programs = [p.relative_to(tmp_path) for p in (tmp_path / "benchmark_output").glob("dspy_programs/**/*.json")]
    assert programs and all("tiny-chat" in str(p) and "bfrs" in str(p) for p in programs), programs
    run_command([BIN / "helm-plugins", "ceiling", "--suite", "t"], cwd=tmp_path)
    cells = json.loads((tmp_path / "benchmark_output" / "runs" / "t" / "ceiling" / "ceiling.json").read_text())["cells"]
    methods = {cell["model"]: set(cell["scores"]) for cell in cells}
    assert methods["helm-plugins/tiny-chat"] == {"helm", "predict", "cot", "bfrs"}
    assert not methods.get("helm-plugins/tiny-default", set()) - {"helm"}  # plumbing checks stay out of the report


def test_optimize_command_saves_the_program_a_run_entry_reuses(tmp_path):
    """Both commands honour -o/--output-path: run from another directory, the program and the data live under it."""
    answers, wrong = synthetic_answer_key()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    out = tmp_path / "out"
    with FakeOpenAI(answers, wrong, {"helm": 0.5, "predict": 0.6, "cot": 0.85}) as fake:
        model = write_prod_env(elsewhere, fake.base_url)
        completed = run_command([BIN / "helm-plugins", "optimize", "--benchmark", "synthetic_arithmetic",
                                 "--model-deployment", model, "--method", "bfrs", "--candidates", "2", "--no-progress",
                                 "-n", "2", "-o", out], cwd=elsewhere)
        [meta] = list((out / "dspy_programs").glob("*/*/bfrs/seed0/*.meta.json"))
        assert "saved" in completed.stdout and json.loads(meta.read_text())["lm_calls"] > 20
        optimisation_requests = len(fake.bodies)
        run_command([BIN / "helm-run", "--run-entries",
                     f"hp_structured_prompting:benchmark=synthetic_arithmetic,method=bfrs,candidates=2,optimize=never,"
                     f"model={model}", "--suite", "t", "-m", "5", "-n", "2", "-o", out], cwd=elsewhere)
        assert len(fake.bodies) - optimisation_requests <= 5  # evaluation only (some answered by the cache)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["prod_env"]  # nothing written to the current directory
