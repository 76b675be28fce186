"""Programs run in the sandbox: bad ones are bounded and rewarded by the rules, never crashing the learner."""

from pathlib import Path

import pytest

from helm_plugins.runners.rl.environment import reward
from helm_plugins.runners.rl.instrumentation import failure_credit

TARGETS = "import pandas as pd\ntest = pd.read_csv('test.csv')\n"


def test_a_valid_program_is_scored_by_the_task_metric(runner):
    outcome = runner.run({"features": "onehot", "model": "constant", "size": "small"})
    assert outcome["status"] == "ok", outcome
    assert outcome["markers"] >= 2 and outcome["raw_score"] > 0
    assert outcome["score"] == pytest.approx((outcome["raw_score"] - 100000.0) / (50000.0 - 100000.0))
    assert reward(outcome, instrumentation=True) == outcome["score"]
    assert 0 < outcome["cpu_s"] and outcome["duration_s"] == outcome["cpu_s"]


def test_a_crash_at_data_loading_earns_exactly_the_credit_of_the_stages_before_it(runner):
    source = "import pandas as pd\ntrain = pd.read_csv('no_such_file.csv')\nmodel = Ridge()\nmodel.fit(train, train)\n"
    outcome = runner.run({}, source=source)
    assert outcome["status"] == "failed" and outcome["markers"] == 1  # imports only
    assert reward(outcome, instrumentation=True) == pytest.approx(failure_credit(1)) == pytest.approx(-9.9)
    assert reward(outcome, instrumentation=False) == -10.0


def test_a_program_that_hangs_is_killed_at_its_time_limit(runner):
    runner.limits = runner.limits.model_copy(update={"timeout_s": 2.0})
    outcome = runner.run({}, source="import json\ndata = open('train.csv').read()\nwhile True:\n    pass\n")
    assert outcome["status"] == "failed" and outcome["reason"].startswith("timeout")
    assert outcome["wall_s"] < 10 and outcome["markers"] == 2
    assert not outcome["timed_out"]  # the task's own limit, not a window's: a failure, not a cut action
    assert reward(outcome, True) == pytest.approx(-9.8)


def test_fake_markers_printed_by_the_program_earn_nothing(runner):
    fake = "".join(f"sys.stdout.write('@@stage {n} {i} {s}\\n')\n" for n in ("abc", "0") for i, s in
                   enumerate(["imports", "load_data", "build_model", "train", "predict"]))
    source = "import sys\n" + fake + "raise SystemExit(3)\n"
    outcome = runner.run({}, source=source)
    assert outcome["status"] == "failed" and outcome["markers"] == 1  # the real imports marker only
    assert reward(outcome, True) == pytest.approx(-9.9)


def test_a_program_cannot_write_outside_its_directory(runner, house_task):
    target = Path(house_task.private_dir) / "stolen.txt"
    source = f"import os\nopen({str(target)!r}, 'w').write('x')\n"
    outcome = runner.run({}, source=source)
    assert outcome["status"] == "failed"
    assert not target.exists()
    reading = runner.run({}, source=f"print(open({str(house_task.answers_path)!r}).read())\n")
    assert reading["status"] == "failed"  # the private answers do not exist inside the sandbox


def test_a_program_flooding_stdout_is_cut_and_still_graded(runner):
    source = TARGETS + ("for _ in range(2000):\n    print('x' * 10000)\n"
                        "pd.DataFrame({'house': test['house'], 'price': 250000.0})"
                        ".to_csv('submission.csv', index=False)\n")
    outcome = runner.run({}, source=source)
    assert outcome["status"] == "ok" and outcome["raw_score"] > 0


def test_a_program_that_does_not_parse_fails_with_no_marker(runner):
    outcome = runner.run({}, source="import pandas as pd\ndef broken(:\n")
    assert outcome["status"] == "failed" and outcome["markers"] == 0 and "syntax" in outcome["reason"]
    assert reward(outcome, True) == -10.0


def test_an_invalid_submission_is_a_failed_run_with_its_reason(runner):
    source = TARGETS + "pd.DataFrame({'house': test['house']}).to_csv('submission.csv', index=False)\n"
    outcome = runner.run({}, source=source)
    assert outcome["status"] == "failed" and "invalid submission" in outcome["reason"] and "price" in outcome["reason"]


def test_a_frozen_lm_can_insert_the_markers_and_a_bad_edit_falls_back_to_the_ast_pass(runner, monkeypatch):
    from helm_plugins.runners.rl import environment
    from helm_plugins.runners.rl.instrumentation import instrument

    replies = {"edit": "faithful"}

    def fake_lm(deployment, local_path):
        def complete(prompt):
            source = prompt.split("```python\n", 1)[1].rsplit("```", 1)[0]
            nonce = prompt.split('print("@@stage ', 1)[1].split(" ", 1)[0]
            edited = instrument(source, nonce)
            return edited if replies["edit"] == "faithful" else edited.replace("rows", "lines")
        return complete

    monkeypatch.setattr(environment, "helm_completer", fake_lm)
    monkeypatch.setattr(environment, "_COMPLETERS", {})
    runner.instrumentation_model = "fake/frozen-lm"
    source = "import json\nrows = open('no_such.csv').read()\n"
    outcome = runner.run({}, source=source)
    assert outcome["instrumenter"] == "lm" and outcome["markers"] == 1
    replies["edit"] = "changes the code"
    outcome = runner.run({}, source=source)
    assert outcome["instrumenter"] == "ast-fallback" and outcome["markers"] == 1
