import ast

import pytest

from helm_plugins.runners.rl.instrumentation import (
    STAGES,
    failure_credit,
    instrument,
    lm_instrument,
    markers_reached,
    strip_markers,
)
from helm_plugins.runners.rl.programs import TaskIO, render_program

PROGRAM = """import pandas as pd
from sklearn.linear_model import Ridge
train = pd.read_csv('train.csv')
test = pd.read_csv('test.csv')
X = train[['a']]
model = Ridge()
model.fit(X, train['y'])
pd.DataFrame({'id': test['id'], 'y': model.predict(test[['a']])}).to_csv('submission.csv', index=False)
"""


def marker_lines(source):
    return [ast.literal_eval(line.split("print(", 1)[1].split(", flush")[0]) for line in source.splitlines()
            if line.startswith("print('@@stage")]


def test_markers_follow_each_stage_in_order_and_insertion_is_idempotent():
    once = instrument(PROGRAM, "n0nce")
    assert marker_lines(once) == [f"@@stage n0nce {i} {stage}" for i, stage in enumerate(STAGES)]
    lines = once.splitlines()
    marker = lines.index("print('@@stage n0nce 1 load_data', flush=True)")
    assert marker == lines.index("test = pd.read_csv('test.csv')") + 1
    assert instrument(once, "n0nce") == once
    assert instrument(instrument(once, "other"), "n0nce") == once  # old markers are replaced, never doubled
    assert strip_markers(once) == strip_markers(PROGRAM)


def test_one_statement_that_builds_and_trains_gets_both_markers_and_main_bodies_are_instrumented():
    source = ("import pandas as pd\ndef main():\n    df = pd.read_csv('t.csv')\n"
              "    m = LinearRegression().fit(df, df)\nmain()\n")
    markers = marker_lines(instrument(source, "x").replace("    print(", "print("))
    assert markers == ["@@stage x 0 imports", "@@stage x 1 load_data", "@@stage x 2 build_model", "@@stage x 3 train"]


def test_rendered_programs_reach_every_stage():
    io = TaskIO("id", "y", "regression", "value")
    for model in ("linear", "forest", "mlp"):
        source = instrument(render_program({"features": "onehot", "model": model, "size": "small"}, io), "k")
        assert len(marker_lines(source)) == len(STAGES)


def test_markers_count_only_with_the_nonce_and_in_order():
    ok = "\n".join(f"@@stage abc {i} {s}" for i, s in enumerate(STAGES))
    assert markers_reached(ok, "abc") == 5
    assert markers_reached(ok, "zzz") == 0  # a program cannot know the run's nonce
    shuffled = "@@stage abc 4 predict\n@@stage abc 3 train\n@@stage abc 0 imports\n@@stage abc 2 build_model\n"
    assert markers_reached(shuffled, "abc") == 1  # only imports, then load_data never came
    assert markers_reached("noise\n@@stage abc 0 imports\nmore\n@@stage abc 1 load_data\n", "abc") == 2
    assert markers_reached("@@stage abc 1 imports\n", "abc") == 0  # wrong index for the name


def test_failure_credit():
    assert failure_credit(0) == -10.0
    assert failure_credit(1) == pytest.approx(-9.9)
    assert failure_credit(5) == pytest.approx(-9.5)
    with pytest.raises(ValueError):
        failure_credit(6)


def test_a_frozen_lm_edit_is_accepted_only_when_it_adds_nothing_but_markers():
    good = instrument(PROGRAM, "n1")
    assert lm_instrument(PROGRAM, "n1", lambda prompt: f"Here it is:\n```python\n{good}```") == good
    changed = good.replace("Ridge()", "Ridge(alpha=0.0)")
    assert lm_instrument(PROGRAM, "n1", lambda prompt: f"```python\n{changed}```") is None
    assert lm_instrument(PROGRAM, "n1", lambda prompt: "def broken(:") is None
    prompt_seen = []
    lm_instrument(PROGRAM, "n1", lambda prompt: prompt_seen.append(prompt) or good)
    assert "n1" in prompt_seen[0] and "load_data" in prompt_seen[0]
