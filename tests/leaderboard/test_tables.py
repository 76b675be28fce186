"""The leaderboard's table rules on planted tables and runs (no browser)."""

import argparse
import json

import pytest

from helm_plugins import leaderboard
from helm_plugins.summarize import plots_argument


def header(value, lower=None, metric=None):
    cell = {"value": value}
    if lower is not None:
        cell["lower_is_better"] = lower
    if metric:
        cell["metadata"] = {"metric": metric}
    return cell


def test_rows_without_values_are_dropped_and_names_say_the_direction():
    table = {"title": "Accuracy", "header": [header("Model"), header("Mean win rate", False), header("WER", True, "WER"),
                                             header("EM", False, "EM"), header("# eval")],
             "rows": [[{"value": "a"}, {"value": 1.0}, {"value": 0.2}, {"value": None}, {"value": 10}],
                      [{"value": "mlp-1"}, {"value": None}, {"value": None}, {"value": None}, {"value": None}],
                      [{"value": "b"}, {"value": 0.0}, {"value": None}, {"value": 0.5}, {"value": None}]]}
    cleaned = leaderboard.clean_table(table)
    assert [row[0]["value"] for row in cleaned["rows"]] == ["a", "b"]
    # WER and EM are different metrics: no win rate across them
    assert [cell["value"] for cell in cleaned["header"]] == ["Model", "WER ↓", "EM ↑", "# eval"]
    assert all(len(row) == 4 for row in cleaned["rows"])
    assert leaderboard.clean_table(cleaned) == cleaned  # running it twice changes nothing


def test_win_rate_kept_over_one_metric_and_two_models():
    table = {"title": "Accuracy", "header": [header("Model"), header("Mean win rate", False),
                                             header("Arithmetic - EM", False, "EM"), header("Facts - EM", False, "EM")],
             "rows": [[{"value": "a"}, {"value": 1.0}, {"value": 0.9}, {"value": 0.8}],
                      [{"value": "b"}, {"value": 0.0}, {"value": 0.1}, {"value": 0.2}]]}
    cleaned = leaderboard.clean_table(table)
    assert cleaned["header"][1]["value"] == "Win rate, EM ↑"
    assert [row[1]["value"] for row in cleaned["rows"]] == [1.0, 0.0]
    one_model = {**table, "rows": table["rows"][:1]}
    assert "Win rate" not in json.dumps(leaderboard.clean_table(one_model)["header"])


def _run(folder, name, groups, model, stats, per_instance=None):
    path = folder / name
    path.mkdir()
    (path / "run_spec.json").write_text(json.dumps({"name": name, "groups": groups, "adapter_spec": {"model": model}}))
    (path / "stats.json").write_text(json.dumps(stats))
    if per_instance is not None:
        (path / "per_instance_stats.json").write_text(json.dumps(per_instance))
    return path


def _stat(name, split, values):
    return {"name": {"name": name, "split": split}, "count": 1, "sum": sum(values) / len(values),
            "mean": sum(values) / len(values)}


def test_headline_is_the_best_model_with_its_interval(tmp_path):
    good = [1.0] * 18 + [0.0] * 2
    bad = [1.0] * 5 + [0.0] * 15
    per_instance = lambda values: [{"instance_id": f"i{k}", "stats": [
        {"name": {"name": "exact_match", "split": "test"}, "count": 1, "sum": v}]} for k, v in enumerate(values)]
    _run(tmp_path, "r1", ["leaf"], "m/good", [_stat("exact_match", "test", good)], per_instance(good))
    _run(tmp_path, "r2", ["leaf"], "m/bad", [_stat("exact_match", "test", bad)], per_instance(bad))
    _run(tmp_path, "r3", ["plumbing"], "m/plumb", [_stat("exact_match", "test", [1.0])])
    cap = leaderboard.Capability("cap", "Cap", "", "", "exact_match", "test", [], ["cap", "leaf"])
    cap.runs = [r for r in leaderboard.read_runs(tmp_path) if set(r["groups"]) & set(cap.groups)]
    metrics = {"exact_match": {"short_display_name": "EM", "lower_is_better": False}}
    text = leaderboard.headline(cap, metrics, {"m/good": "Good"})
    assert text.startswith("EM ↑ 0.9 [0.699, 0.972] (95% CI, n=20), Good; highest of 2 runs"), text
    empty = leaderboard.Capability("c2", "C2", "", "", "exact_match", "test", [], ["c2"])
    assert leaderboard.headline(empty, metrics, {}) == "EM ↑: no run of this suite"


def test_bad_plots_argument_is_rejected_with_the_expected_form():
    with pytest.raises(argparse.ArgumentTypeError, match="expected GROUP=FOLDER"):
        plots_argument("demo_output/ceiling")


def test_landing_subgroup_missing_from_the_schema_is_named():
    schema = {"run_groups": [{"name": "landing", "subgroups": ["hp_missing"]}]}
    with pytest.raises(ValueError, match="subgroup 'hp_missing' is not a run group"):
        leaderboard.capabilities(schema)


def test_a_plot_in_runs_and_in_a_report_is_linked_once(tmp_path):
    suite = tmp_path / "benchmark_output" / "runs" / "s"
    suite.mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\nplanted"
    for drafter in ("a", "b"):
        run = _run(suite, f"hp_speculate:drafter={drafter}", ["hp_speculative_decoding"], f"m/{drafter}", [])
        (run / "speculation.png").write_bytes(png)
    report = tmp_path / "report"
    report.mkdir()
    (report / "speculation.png").write_bytes(png)
    (report / "other.png").write_bytes(png + b"2")
    runs = leaderboard.read_runs(suite)
    plots = leaderboard.group_plots(suite, runs, leaderboard.copy_report_plots(
        suite, [("hp_speculative_decoding", report)]))["hp_speculative_decoding"]
    assert [label for label, _ in plots] == ["speculation (a)", "other"]
    assert plots[0][1] == "/benchmark_output/runs/s/hp_speculate%3Adrafter%3Da/speculation.png"
    assert (suite / "plots" / "hp_speculative_decoding" / "other.png").read_bytes() == png + b"2"


def test_no_win_rate_over_undirected_columns_or_models_never_compared():
    table = {"title": "Calibration", "header": [header("Model"), header("Mean win rate", False), header("EntCE", None, "EntCE"),
                                                header("L", True, "L")],
             "rows": [[{"value": "a"}, {"value": 1.0}, {"value": 0.1}, {"value": 3.0}],
                      [{"value": "b"}, {"value": 0.0}, {"value": -0.2}, {"value": 3.5}]]}
    assert [cell["value"] for cell in leaderboard.clean_table(table)["header"]] == ["Model", "EntCE", "L ↓"]
    disjoint = {"title": "Requests", "header": [header("Model"), header("Mean win rate", False), header("X - Failed", True, "Failed"),
                                                header("Y - Failed", True, "Failed")],
                "rows": [[{"value": "a"}, {"value": 0.0}, {"value": 1.0}, {"value": None}],
                         [{"value": "b"}, {"value": 0.0}, {"value": None}, {"value": 0.0}]]}
    assert "Win rate" not in json.dumps(leaderboard.clean_table(disjoint)["header"])  # no column compares two models


def test_an_audio_report_folder_is_linked_from_the_audio_pages_when_it_has_plots(tmp_path):
    """The audio report's plots (a folder given with --plots, or already copied under runs/<suite>/plots/hp_audio)
    are linked from the audio capability's page and its landing row; a report folder without PNGs links nothing."""
    from helm_plugins.summarize import schema_path

    suite = tmp_path / "benchmark_output" / "runs" / "s"
    (suite / "groups").mkdir(parents=True)
    schema = leaderboard.load_schema(schema_path(), [("hp_audio", tmp_path / "audio-report")])
    (suite / "schema.json").write_text(json.dumps({"run_groups": [{"name": g["name"]} for g in schema["run_groups"]]}))
    report = tmp_path / "audio-report"
    report.mkdir()
    leaderboard.build(suite, schema, [("hp_audio", report)])  # no plot yet
    assert "Plots" not in json.dumps(json.loads((suite / "schema.json").read_text()))
    (report / "aspects.png").write_bytes(b"\x89PNG\r\n\x1a\naspects")
    caps = {cap.name: cap for cap in leaderboard.build(suite, schema, [("hp_audio", report)])}
    url = "/benchmark_output/runs/s/plots/hp_audio/aspects.png"
    assert caps["hp_audio"].plots == [("aspects", url)]
    groups = {g["name"]: g for g in json.loads((suite / "schema.json").read_text())["run_groups"]}
    assert f"[aspects]({url})" in groups["hp_audio"]["description"]
    (landing,) = json.loads((suite / "groups" / "helm_plugins.json").read_text())
    audio_row = next(row for row in landing["rows"] if row[0]["href"] == "/leaderboard/hp_audio")
    assert url in audio_row[5]["value"]
    # summarized again without --plots: the copied plot stays linked
    assert [cap.plots for cap in leaderboard.build(suite, schema) if cap.name == "hp_audio"] == [[("aspects", url)]]


def test_columns_without_any_value_are_dropped():
    table = {"title": "Calibration", "header": [header("Model"), header("Exact - L", True, "L"), header("helm-run - L", True, "L")],
             "rows": [[{"value": "a"}, {"value": None}, {"value": 3.0}], [{"value": "b"}, {"value": None}, {"value": 3.5}]]}
    cleaned = leaderboard.clean_table(table)
    assert [cell["value"] for cell in cleaned["header"]] == ["Model", "helm-run - L ↓"]
    assert [[cell["value"] for cell in row] for row in cleaned["rows"]] == [["a", 3.0], ["b", 3.5]]


def test_a_group_that_ranks_over_different_metrics_keeps_its_win_rate():
    from helm_plugins import leaderboard

    def column(name, metric, lower):
        return {"value": name, "lower_is_better": lower, "metadata": {"metric": metric}}

    table = {"title": "aspect", "header": [{"value": "Model"}, {"value": "Mean win rate", "lower_is_better": False},
                                           column("WER", "wer_score", True), column("Accuracy", "exact_match", False)],
             "rows": [[{"value": "a"}, {"value": 1.0}, {"value": 0.1}, {"value": 0.9}],
                      [{"value": "b"}, {"value": 0.0}, {"value": 0.5}, {"value": 0.2}]]}
    kept = leaderboard.clean_table(table, across_metrics=True)
    assert [c["value"] for c in kept["header"]] == ["Model", "Win rate, mean over scenarios ↑", "WER ↓", "Accuracy ↑"]
    assert leaderboard.clean_table(kept, across_metrics=True) == kept  # idempotent
    assert "Win rate" not in json.dumps(leaderboard.clean_table(table)["header"])  # other groups: two metrics, none
