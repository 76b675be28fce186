"""Every stat a schema table lists exists in the runs of its group: a suite with every kind of run the statistics
capabilities and the optimizer study write (helm-run's hp_entce and hp_provenance runs, and the runners' runs,
written by their own code from planted results) summarizes without one "does not have any stat matched" line, and
`helm-plugins summarize` leaves the finished leaderboard (landing table of contents, one table per kind of run)."""

import json
import math
from types import SimpleNamespace

import pytest

from helm_plugins.cli import main
from helm_plugins.runners.pretrain import optimizer_study
from helm_plugins.statistics.entropy_calibration import cli as entce_cli
from helm_plugins.statistics.fairness_frontier import cli as frontier_cli
from helm_plugins.statistics.provenance import cli as provenance_cli
from helm_plugins.statistics.provenance.demo import DemoResult
from helm_plugins.statistics.provenance.hypothesis_tests import QueryTestResult
from tests.conftest import BIN, run_command

pytestmark = pytest.mark.slow

HELM_RUN_ENTRIES = [  # the generation run first: the loss run pairs with it
    "hp_entce:part=generation,documents=3,steps=6,samples=2,prompt_prefix=<|endoftext|>,model=helm-plugins/tiny-default",
    "hp_entce:part=generation,documents=3,steps=6,samples=2,tau=0.8,prompt_prefix=<|endoftext|>,model=helm-plugins/tiny-default",
    "hp_entce:part=loss,documents=3,steps=6,model=helm-plugins/tiny-default",
    "hp_provenance:transcript=tiny-default,max_examples=30,permutations=19,model=helm-plugins/tiny-default",
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _entce_runner_runs(suite, tmp_path):
    plot = tmp_path / "entropy_calibration.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\nplanted")
    by_temperature = {
        str(t): {"entce": h - 3.0, "entce_stderr": 0.05, "mean_entropy": h, "mean_log_loss": 3.0, "slope_per_step": 0.01,
                 "entropy_per_step": [h - 0.1, h + 0.1], "log_loss_per_step": [2.9, 3.1]}
        for t, h in ((1.0, 3.4), (0.8, 2.6))
    }
    entce_cli.write_helm_runs(suite, {"model": "tiny-default", "documents": 4, "by_temperature": by_temperature}, plot)


def _frontier_runs(suite):
    models = [{"parameters": size, "lambda": lam, "dp_gap": 0.2 - lam / 10, "bce": 0.5 + lam / 50 - size / 1e5}
              for size in (100, 200, 400) for lam in (0.0, 1.0)]
    frontiers = {str(size): [m for m in models if m["parameters"] == size] for size in (100, 200, 400)}
    frontier_cli.write_helm_runs(suite, models, {"frontiers": frontiers, "held_out_size": 400,
                                                 "extrapolation_error": {"mean_abs": 0.01}}, "planted")


def _provenance_runs(suite, tmp_path, output_path):
    def query(n, rho, with_reference, permutation_p=0.05):
        return QueryTestResult(n=n, spearman=rho, log10_p=-2.0 * rho, z=3.0 * rho, permutation_p=permutation_p,
                               permutations=19, with_reference=with_reference)

    demo = DemoResult(query={"alice": [query(40, 0.5, False)], "alice+reference": [query(40, 0.7, True)],
                             "carol": [query(40, 0.0, False)]},
                      reshuffle={"alice": {"rank_p": 0.1, "z": 2.0}, "carol": {"rank_p": 0.7, "z": -0.3}},
                      partition={"alice": {"spearman": 0.4, "permutation_p": 0.02}, "carol": {"spearman": 0.0, "permutation_p": 0.6}})
    provenance_cli.write_demo_runs(suite, demo, examples=40)
    transcript = _jsonl(tmp_path / "transcript.jsonl",
                        [{"id": f"d{i}", "text": f"story {i} of the w{i % 7} kind", "position": i} for i in range(30)])
    losses = _jsonl(tmp_path / "losses.jsonl", [{"id": f"d{i}", "loss": 3.0 - i / 30 + (7 * i % 5) / 10} for i in range(30)])
    scores = _jsonl(tmp_path / "scores.jsonl", [{"model": "real", "score": -100.0, "original": True}]
                    + [{"model": f"shuffle{k}", "score": -110.0 - k} for k in range(4)])
    texts = _jsonl(tmp_path / "texts.jsonl", [{"id": f"t{i}", "text": f"story {i} of the w{i % 7} kind"} for i in range(20, 30)])
    common = ["--suite", "s", "-o", str(output_path), "--output", str(tmp_path / "provenance")]
    for mode in (["--transcript", str(transcript), "--losses", str(losses), "--permutations", "0"],  # no permutation p
                 ["--reshuffle", str(scores)], ["--transcript", str(transcript), "--texts", str(texts), "--bins", "5"]):
        assert main(["provenance", *mode, "--name", "org/suspect", *common]) == 0


def _optimizer_runs(suite, tmp_path):
    def row(optimizer, losses, speedup):
        estimate, low, high = speedup
        interval = {"estimate": estimate, "low": low, "high": high}
        return {"optimizer": optimizer, "size": "d4", "multiple": 1.0, "tokens": 1000, "non_embedding_parameters": 500,
                "final_val_loss_seeds": losses, "mid_run_val_loss": losses[0] + 0.5 if losses else None,
                "knobs": {"lr": 0.01}, "tuning_runs": 3, "speedup": interval, "speedup_vs_untuned": interval}

    for planted in (row("adamw", [4.0, 4.1], (1.0, 0.9, 1.1)),
                    row("muon", [3.8], (1.3, 1.1, math.inf)),  # an interval beyond the reference's fit
                    row("lion", [], (math.nan, None, None))):  # every seed diverged
        optimizer_study.write_helm_run("planted", planted, {}, suite, tmp_path / "study")


@pytest.fixture(scope="module")
def statistics_suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("statistics_suite")
    output_path = root / "benchmark_output"
    suite = output_path / "runs" / "s"
    run_command([BIN / "helm-run", "--run-entries", *HELM_RUN_ENTRIES, "--suite", "s", "-o", output_path,
                 "-m", "30", "-n", "1"], cwd=root)
    _entce_runner_runs(suite, root)
    _frontier_runs(suite)
    _provenance_runs(suite, root, output_path)
    _optimizer_runs(suite, root)
    summary = run_command([BIN / "helm-plugins", "summarize", "--suite", "s", "-o", output_path, "-n", "1"], cwd=root)
    return SimpleNamespace(suite=suite, output=summary.stdout + summary.stderr)


def tables(suite, group):
    return {table["title"]: table for table in json.loads((suite / "groups" / f"{group}.json").read_text())}


def column(table, header):
    index = [cell["value"] for cell in table["header"]].index(header)
    return {row[0]["value"]: row[index].get("value") for row in table["rows"]}


def test_every_listed_stat_exists_in_the_runs_of_its_group(statistics_suite):
    unmatched = [line for line in statistics_suite.output.splitlines() if "does not have any stat matched" in line]
    assert unmatched == [], "\n".join(unmatched[:10])
    kinds = {json.loads(p.read_text())["name"].split(":")[0] for p in statistics_suite.suite.glob("*/run_spec.json")}
    assert kinds == {"hp_entce", "hp_entropy_calibration", "hp_fairness_frontier", "hp_provenance",
                     "hp_provenance_reshuffle", "hp_provenance_ngram", "hp_optimizers"}


def test_each_kind_of_run_has_its_own_table(statistics_suite):
    entce = tables(statistics_suite.suite, "hp_entropy_calibration")
    assert set(entce) == {"Entropy calibration", "Generation entropy", "Requests"}
    generation = column(entce["Generation entropy"], "Generation - H")  # EntCE is not a column of generation runs
    assert sorted(generation) == ["tiny-default [temperature: 0.8]", "tiny-default [temperature: 1.0]"]
    exact = column(entce["Entropy calibration"], "Exact - EntCE")  # signed: no direction, no win rate
    assert sorted(v for v in exact.values() if v is not None) == pytest.approx([-0.4, 0.4])
    assert not any("Win rate" in cell["value"] for cell in entce["Entropy calibration"]["header"])
    provenance = tables(statistics_suite.suite, "hp_provenance")
    assert set(provenance) == {"Query test", "Reshuffle test", "N-gram test"}
    assert column(provenance["Reshuffle test"], "Demo - Reshuffle p") == {
        "helm-plugins/provenance-alice": 0.1, "helm-plugins/provenance-alice+reference": 0.1,
        "helm-plugins/provenance-carol": 0.7, "org/suspect": None}
    assert column(provenance["Query test"], "Query test - Perm. p")["org/suspect"] is None  # run without permutations
    # the fitted sizes have no extrapolation error; the held-out size has the planted one
    frontier = column(tables(statistics_suite.suite, "hp_fairness_frontier")["data: planted"], "Extrap. error ↓")
    assert frontier == {"helm-plugins/mlp-100": None, "helm-plugins/mlp-200": None, "helm-plugins/mlp-400": 0.01}
    optimizers = tables(statistics_suite.suite, "hp_pretraining_optimizers")["Pretraining optimizers, tuned fairly"]
    assert column(optimizers, "Speedup ↑") == {"helm-plugins/planted-adamw-d4-1x": 1.0,
                                               "helm-plugins/planted-muon-d4-1x": pytest.approx(1.3),
                                               "helm-plugins/planted-lion-d4-1x": None}  # every seed diverged
    assert column(optimizers, "High")["helm-plugins/planted-muon-d4-1x"] is None  # beyond the reference's fit


def test_summarize_writes_the_landing_table_of_contents(statistics_suite):
    (landing,) = json.loads((statistics_suite.suite / "groups" / "helm_plugins.json").read_text())
    assert landing["title"] == "Capabilities"
    rows = {row[0]["value"]: [cell.get("value") for cell in row] for row in landing["rows"]}
    # EntCE is signed: the headline is the run nearest zero (helm-run's loss run, not the planted +-0.4)
    entce = rows["Entropy calibration"][3]
    assert entce.startswith("EntCE ") and entce.endswith(", tiny-default; nearest zero of 3 runs"), entce
    assert abs(float(entce.split()[1])) < 0.4
    assert rows["Palimpsestic provenance"][3].endswith("lowest of 5 runs")  # the strongest evidence
    assert rows["Synthetic tasks"][4] == "no runs in this suite"
