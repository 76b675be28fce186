"""helm-plugins demo: steps report a headline or why they failed, failures do not stop independent steps."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helm_plugins import demo
from helm_plugins.demo import DemoContext, Step, mean_interval, run_demo, summary_table
from tests.conftest import REPO


def _ctx(tmp_path):
    return DemoContext(bin=Path(sys.executable).parent, suite="s", output_path=tmp_path / "benchmark_output",
                       demo_output=tmp_path / "demo_output", conf_dir=REPO / "run_specs", max_eval_instances=5,
                       num_threads=1)


def _python(code):
    return lambda ctx: [sys.executable, "-c", code]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_step_names_its_log_and_only_its_dependents_are_skipped(tmp_path, jobs):
    steps = [
        Step("writes", "Cap A", _python("open('a.txt', 'w').write('42')"), lambda ctx: "answer 42",
             lambda ctx: "a.txt"),
        Step("breaks", "Cap B", _python("import sys; print('model weights missing'); sys.exit(3)"),
             lambda ctx: "never", lambda ctx: "b"),
        Step("report-b", "Cap B", _python("pass"), lambda ctx: "never", lambda ctx: "b", needs=["breaks"]),
        Step("report-a", "Cap A", _python("pass"), lambda ctx: "fine", lambda ctx: "a", needs=["writes"]),
    ]
    lines = []
    results = run_demo(steps, _ctx(tmp_path), progress=False, echo=lines.append, jobs=jobs)
    assert [r.status for r in results] == ["ok", "failed", "skipped", "ok"]
    failed = results[1]
    assert "exit code 3" in failed.reason and "model weights missing" in failed.reason
    assert failed.log.read_text().splitlines()[-1] == "model weights missing"
    assert any(line.startswith("[2/4] breaks: FAILED") for line in lines)
    assert any(f"log: {failed.log}" in line for line in lines)
    assert any(line.startswith("[4/4] report-a: done in") and line.endswith("-- fine") for line in lines)
    assert results[0].cpu_seconds > 0 and results[0].seconds >= results[0].cpu_seconds / 4
    table = summary_table(results, _ctx(tmp_path))
    assert "answer 42" in table and "FAILED: exit code 3" in table and "SKIPPED: needs breaks" in table


def test_an_unreadable_result_fails_the_step_instead_of_the_demo(tmp_path):
    step = Step("reads", "Cap", _python("pass"), lambda ctx: json.loads("{truncated"), lambda ctx: "x")
    [result] = run_demo([step], _ctx(tmp_path), progress=False, echo=lambda line: None)
    assert result.status == "failed" and "cannot read its results" in result.reason


def test_intervals_known_answers():
    # Wilson interval for 8 of 10: [0.4902, 0.9433]
    assert mean_interval([1.0] * 8 + [0.0] * 2) == "0.8 [0.49, 0.943]"
    # Student t for [1, 3, 1, 3]: mean 2, sd 1.1547, n 4: 2 +- 3.1824 * 0.57735 = [0.163, 3.84]
    assert mean_interval([1.0, 3.0, 1.0, 3.0]) == "2 [0.163, 3.84]"
    assert mean_interval([]) == "n/a"


def test_every_conf_has_a_demo_step():
    helm_run_confs = {step.command(_ctx(Path("/x")))[2].split("/")[-1] for step in demo.STEPS
                      if step.command(_ctx(Path("/x")))[0].endswith("helm-run")}
    assert helm_run_confs == {conf.name for conf in (REPO / "run_specs").glob("*.conf")}


def test_cli_rejects_an_unknown_step_and_lists_the_steps(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "helm_plugins.cli", "demo", "--only", "nope"],
                               capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 2 and "unknown step(s) nope; the steps are: synthetic" in completed.stderr
    listing = subprocess.run([sys.executable, "-m", "helm_plugins.cli", "demo", "--list"],
                             capture_output=True, text=True, cwd=tmp_path)
    assert listing.returncode == 0 and listing.stdout.split()[0] == "synthetic"


def _interval_step(name, seconds, resource=None, needs=(), after_all=False):
    """A step that records when it ran (start and end times) in <name>.json under the demo output."""
    code = (f"import json, time, pathlib; s = time.time(); time.sleep({seconds}); "
            f"pathlib.Path(r'{{out}}/{name}.json').write_text(json.dumps([s, time.time()]))")
    return Step(name, "Cap", lambda ctx: [sys.executable, "-c", code.replace("{out}", str(ctx.demo_output))],
                lambda ctx: "ok", lambda ctx: name, needs=needs, resource=resource, after_all=after_all)


def _span(ctx, name):
    return json.loads((ctx.demo_output / f"{name}.json").read_text())


def test_two_jobs_overlap_runners_but_never_two_holders_of_one_resource(tmp_path):
    ctx = _ctx(tmp_path)
    ctx.demo_output.mkdir(parents=True)
    steps = [_interval_step("helm-a", 1.0, resource="helm"), _interval_step("helm-b", 1.0, resource="helm"),
             _interval_step("runner", 1.5), _interval_step("report-a", 0.1, needs=["helm-a"]),
             _interval_step("summary", 0.1, after_all=True)]
    results = run_demo(steps, ctx, progress=False, echo=lambda line: None, jobs=2)
    assert [r.step.name for r in results] == [s.name for s in steps] and all(r.status == "ok" for r in results)
    a, b, runner, report, summary = (_span(ctx, s.name) for s in steps)
    assert b[0] >= a[1]  # the two helm-run steps never overlap
    assert runner[0] < a[1]  # the runner runs beside the first helm-run step
    assert report[0] >= a[1]  # a report waits for the step it needs
    assert summary[0] >= max(a[1], b[1], runner[1], report[1])  # summarize waits for everything before it


def test_each_step_reports_its_own_cpu_time_when_steps_overlap(tmp_path):
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    steps = [Step("busy", "Cap", _python(busy), lambda ctx: "ok", lambda ctx: "x"),
             Step("idle", "Cap", _python("import time; time.sleep(0.8)"), lambda ctx: "ok", lambda ctx: "y")]
    busy_result, idle_result = run_demo(steps, _ctx(tmp_path), progress=False, echo=lambda line: None, jobs=2)
    assert busy_result.cpu_seconds >= 0.6 and idle_result.cpu_seconds < 0.3
    assert idle_result.seconds >= 0.8


def test_every_helm_run_step_holds_helms_cache_and_summarize_waits_for_all():
    for step in demo.STEPS:
        if step.command(_ctx(Path("/x")))[0].endswith("helm-run"):
            assert step.resource == "helm", step.name
    assert [s.name for s in demo.STEPS if s.after_all] == ["summarize"]


def test_headlines_skip_stats_written_without_a_value(tmp_path):
    ctx = _ctx(tmp_path)
    for run, value in (("hp_fairness_frontier:size=1_small", None), ("hp_fairness_frontier:size=2_large", 0.0016)):
        folder = ctx.suite_dir / run
        folder.mkdir(parents=True)
        stat = {"name": {"name": "extrapolation_mean_abs_error", "split": "test"}, "count": 0 if value is None else 1}
        if value is not None:
            stat.update(sum=value, mean=value)
        (folder / "stats.json").write_text(json.dumps([stat]))
    assert demo._fairness_headline(ctx) == "frontier extrapolated to the largest size: mean |BCE error| 0.0016"
