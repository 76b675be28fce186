"""Cost of planted usage, unknown prices, the frontier of planted points, effort comparisons, trace flags."""

import math

import pytest

from helm_plugins.agents.hal.cost import Price, PriceTable, Usage, UnknownPriceError, read_price_file, run_cost
from helm_plugins.agents.hal.flags import FLAGS, final_flags, prefilter
from helm_plugins.agents.hal.report import RunSummary, effort_comparisons, frontier_counts, mark_frontiers, pareto_frontier


def test_cost_of_planted_usage_equals_the_hand_computation(tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  a/model: {input: 2.0, output: 8.0, cached_input: 0.5}\n  b/model: {input: 1.0, output: 1.0}\n")
    table = PriceTable.load(str(prices), use_litellm=False)
    usage = {"a/model": Usage(), "b/model": Usage()}
    usage["a/model"].add(1_000_000, 100_000, cached_prompt=400_000)
    usage["a/model"].add(200_000, 50_000)
    usage["b/model"].add(3_000, 7_000)
    # a: (1.2M - 0.4M) * 2/M + 0.4M * 0.5/M + 150k * 8/M = 1.6 + 0.2 + 1.2 ; b: 10k * 1/M
    report = run_cost(usage, table)
    assert report.cost_usd == pytest.approx(3.0 + 0.01)
    assert report.per_model["b/model"] == pytest.approx(0.01)


def test_litellm_prices_apply_when_no_price_file_names_the_model():
    price = PriceTable.load().price("openai/gpt-4o-2024-08-06")
    assert price is not None and price.input > 0 and price.output > price.input


def test_unknown_price_is_an_error_or_explicitly_unknown_never_zero():
    usage = {"local/unpriced-model": Usage(1, 100, 10, 0)}
    table = PriceTable({}, use_litellm=False)
    with pytest.raises(UnknownPriceError, match="no price for local/unpriced-model.*allow_unknown_cost=true"):
        run_cost(usage, table)
    report = run_cost(usage, table, allow_unknown=True)
    assert report.cost_usd is None and report.unpriced_models == ["local/unpriced-model"]


@pytest.mark.parametrize("text,message", [
    ("models:\n  m: {input: 1}\n", "needs `input` and `output`"),
    ("models:\n  m: {input: -1, output: 1}\n", "not a non-negative finite number"),
    ("models:\n  m: {input: .nan, output: 1}\n", "not a non-negative finite number"),
    ("models:\n  m: {input: 1, output: 1, cache: 2}\n", "unknown fields"),
    ("prices: {}\n", "expected a `models:` mapping"),
])
def test_bad_price_files_are_rejected_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_price_file(path)


def test_frontier_of_planted_points_equals_the_hand_computed_one():
    points = [(1.0, 0.50), (2.0, 0.70), (3.0, 0.72), (4.0, 0.90), (5.0, 0.85), (8.0, 0.90), (0.5, 0.10), (6.0, 0.95)]
    # Upper hull from (0.5,.10): (1,.5) (2,.7) (4,.9) (6,.95); (3,.72) lies under the chord (2,.7)-(4,.9);
    # (5,.85) and (8,.9) are dominated.
    assert pareto_frontier(points) == [(0.5, 0.10), (1.0, 0.50), (2.0, 0.70), (4.0, 0.90), (6.0, 0.95)]
    assert pareto_frontier([(1.0, 0.5), (1.0, 0.6)]) == [(1.0, 0.6)]


def summary(benchmark, label, accuracy, cost, tokens, effort="", scores=None, model="m"):
    return RunSummary(run=f"hp_hal:benchmark={benchmark},{label}", benchmark=benchmark, agent="skilled", model=model,
                      effort=effort, label=label, num_tasks=4, accuracy=accuracy, accuracy_ci=(0, 1),
                      total_cost_usd=cost, cost_ci=(0, 1), total_tokens=tokens, wall_time_s=1, steps=1, error_rate=0,
                      flag_rates={f: 0 for f in FLAGS}, scores=scores or {})


def test_frontier_counts_and_the_token_frontier_differ_from_the_dollar_one():
    runs = [summary("a", "cheap", 0.6, 0.01, 5000), summary("a", "dear", 0.9, 1.0, 1000), summary("a", "unpriced", 0.95, None, 900),
            summary("b", "cheap", 0.7, 0.01, 5000), summary("b", "dear", 0.7, 1.0, 1000)]
    frontiers = mark_frontiers(runs)
    assert frontiers == {"a": ["cheap", "dear"], "b": ["cheap"]}
    assert frontier_counts(runs) == {"cheap": (2, 2), "dear": (1, 2), "unpriced": (0, 1)}
    assert frontier_counts(runs, "on_token_frontier") == {"cheap": (0, 2), "dear": (1, 2), "unpriced": (1, 1)}


def test_effort_comparison_is_paired_over_tasks():
    low = summary("a", "x", 0.5, 1.0, 10, "low", {"t1": 1, "t2": 0, "t3": 1, "t4": 0})
    high = summary("a", "x", 0.25, 3.0, 30, "high", {"t1": 1, "t2": 0, "t3": 0, "t4": 0})
    other = summary("a", "y", 0.5, 1.0, 10, "high", {"t1": 1}, model="n")  # no low run: not compared
    (comparison,) = effort_comparisons([low, high, other])
    assert comparison["delta_accuracy"] == pytest.approx(-0.25) and comparison["delta_cost_usd"] == pytest.approx(2.0)
    assert comparison["low"] == "low" and comparison["high"] == "high" and comparison["tasks"] == 4


def test_prefilters_flag_what_the_agent_did_not_what_it_was_shown():
    events = [
        {"kind": "tool", "name": "web_search", "arguments": {"query": "csv module"},
         "result": [{"url": "https://huggingface.co/datasets/hal-lite/fileqa/answers.jsonl"}], "error": ""},
        {"kind": "tool", "name": "book_reservation", "arguments": {"user_id": "u"}, "result": None,
         "error": "flight has no seats left", "marks": ["instruction_violation"]},
    ]
    hits = prefilter(events, {"error_kind": ""})
    assert set(hits) == {"tool_call_failure", "instruction_violation"}
    events.append({"kind": "tool", "name": "web_fetch", "arguments": {"url": "https://huggingface.co/datasets/x/answers.jsonl"},
                   "result": "...", "error": ""})
    events.append({"kind": "sandbox", "stderr": "ModuleNotFoundError: No module named 'requests'"})
    hits = prefilter(events, {"error_kind": "gateway", "reason": "model call failed"})
    assert {"shortcut", "environment_error"} <= set(hits)
    flags = final_flags(hits)
    assert flags["shortcut"] == 1 and flags["catastrophic_action"] == 0
    judged = final_flags(hits, {"status": "ok", "verdict": {f: f == "catastrophic_action" for f in FLAGS}})
    assert judged == {f: int(f == "catastrophic_action") for f in FLAGS}
    assert math.isclose(Price(1e-6, 2e-6, 5e-7).cost(10, 5, 4), 6e-6 + 2e-6 + 1e-5)


def write_usaco_release(root, naming="I"):
    """Files in the released USACO benchmark's layout: the problem dictionary and usaco_v3/tests/<cp_id>/."""
    import json

    datasets = root / "datasets"
    (datasets / "usaco_v3" / "tests" / "1001").mkdir(parents=True)
    problems = {"1001_bronze_sum": {"cp_id": "1001", "num_tests": 3, "name": "Sum",
                                    "description": "Print the sum of the N integers on the second line.",
                                    "runtime_limit": 2, "memory_limit": 256}}
    (datasets / "usaco_subset307_dict.json").write_text(json.dumps(problems))
    for number, values in enumerate([[1, 2], [5, 5, 5], [10]], 1):
        given, expected = f"{len(values)}\n{' '.join(map(str, values))}\n", f"{sum(values)}\n"
        names = (f"I.{number}", f"O.{number}") if naming == "I" else (f"{number}.in", f"{number}.out")
        (datasets / "usaco_v3" / "tests" / "1001" / names[0]).write_text(given)
        (datasets / "usaco_v3" / "tests" / "1001" / names[1]).write_text(expected)


@pytest.mark.skipif(not __import__("shutil").which("bwrap"), reason="bubblewrap is not installed")
@pytest.mark.parametrize("naming", ["I", "in"])
def test_released_usaco_loader_and_judge(tmp_path, naming):
    from helm_plugins.agents.hal.benchmarks import BENCHMARKS, make_tasks

    write_usaco_release(tmp_path, naming)
    (task,) = make_tasks("usaco_released", 5, 0, str(tmp_path))
    assert task.id == "usaco-1001_bronze_sum" and "sum of the N integers" in task.public["statement"]
    assert "test_files" in task.gold and "test_files" not in task.public
    judge = BENCHMARKS.get("usaco_released")
    right = "import sys\nd=sys.stdin.read().split()\nprint(sum(map(int,d[1:])))\n"
    assert judge.score(task, right, {}) == (1.0, "all 3 hidden tests pass")
    assert judge.score(task, "print(3)\n", {}) == (0.0, "hidden test 2: wrong answer")
    (tmp_path / "datasets" / "usaco_v3" / "tests" / "1001" / ("O.3" if naming == "I" else "3.out")).unlink()
    with pytest.raises(FileNotFoundError, match="problem '1001_bronze_sum' test 3"):
        make_tasks("usaco_released", 5, 0, str(tmp_path))
    with pytest.raises(ValueError, match="needs data_path"):
        make_tasks("usaco_released", 5, 0, "")
