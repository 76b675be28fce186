"""Runners: a second run on a locked output folder fails at once naming the process that holds it; a corrupt
runner checkpoint names its path and the --fresh way out; a malformed --config YAML names file, line and problem;
NaN or infinity anywhere in a config is rejected."""

import subprocess
import sys

import pytest

from helm_plugins.cli import main
from helm_plugins.common.configs import parse_overrides
from helm_plugins.common.folder_lock import FolderInUse, FolderLock
from helm_plugins.runners.pretrain.config import load_config
from helm_plugins.runners.pretrain.trainer import Trainer
from tests.runners.pretrain.conftest import SMALL

HOLD = "import sys, time; from helm_plugins.common.folder_lock import FolderLock; lock = FolderLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(120)"


@pytest.fixture
def small():
    return load_config("demo", overrides=SMALL + ["max_steps=4", "eval_every=2", "checkpoint_every=2"])


@pytest.fixture
def held_folder(tmp_path):
    """A folder whose lock another process holds: (folder, that process)."""
    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield folder, holder
    holder.kill()
    holder.wait()


def test_a_second_run_on_the_same_folder_fails_naming_the_holder(held_folder, small, capsys):
    folder, holder = held_folder
    with pytest.raises(FolderInUse, match=rf"{folder} is in use by process {holder.pid} on .*, since .*; wait for it"):
        Trainer(small, folder)
    assert main(["pretrain", "--recipe", "demo", "--output", str(folder), "--no-progress"]) == 2
    assert f"is in use by process {holder.pid}" in capsys.readouterr().err
    assert not (folder / "config.json").exists()  # the second run touched nothing


def test_the_lock_is_released_when_training_ends_or_set_up_fails(tmp_path, small):
    Trainer(small, tmp_path).train(stop_at_step=2, progress=False)
    with FolderLock(tmp_path):  # free again
        pass
    with pytest.raises(ValueError, match="different config"):
        Trainer(load_config("demo", overrides=SMALL + ["max_steps=5"]), tmp_path)
    assert Trainer(small, tmp_path).train(progress=False).completed  # the refused run released the lock


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"not a checkpoint at all", lambda data: b""],
    ids=["truncated", "garbage", "empty"],
)
def test_a_corrupt_runner_checkpoint_names_its_path_and_the_fresh_hint(tmp_path, small, damage, capsys):
    Trainer(small, tmp_path).train(stop_at_step=2, progress=False)
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(damage(checkpoint.read_bytes()))
    with pytest.raises(ValueError, match=rf"{checkpoint} is not a readable checkpoint \(.*\); pass --fresh to start over"):
        Trainer(small, tmp_path).train(progress=False)
    assert Trainer(small, tmp_path, fresh=True).train(progress=False).completed


@pytest.mark.parametrize(
    "text, message",
    [
        ("model:\n  n_layer: 2\n n_head: 2\n", r"bad.yaml:3:2: not valid YAML \(expected <block end>, but found '<block mapping start>'"),
        ("optimizer: {lr: 0.1\nseed: 1\n", r"bad.yaml:2:5: not valid YAML \(expected ',' or '}', but got ':'"),
        ("model:\n\tn_layer: 2\n", r"bad.yaml:2:1: not valid YAML \(found character '\\t' that cannot start any token"),
        ("- n_layer: 2\n", r"bad.yaml: expected a mapping of config keys \(key: value lines\), got a list"),
        ("optimizer:\n  lr: .nan\n", r"invalid PretrainConfig config: optimizer.lr is nan; numbers must be finite"),
    ],
    ids=["indentation", "unclosed flow", "tab", "not a mapping", "NaN"],
)
def test_a_malformed_config_file_names_file_line_and_problem(tmp_path, capsys, text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config("demo", config)
    assert main(["pretrain", "--config", str(config), "--output", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_bad_override_values_are_named():
    with pytest.raises(ValueError, match=r"override 'optimizer.betas=\[0.9, 0.99': the value is not valid YAML"):
        parse_overrides(["optimizer.betas=[0.9, 0.99"])
    with pytest.raises(ValueError, match=r"optimizer.lr is inf; numbers must be finite"):
        load_config("demo", overrides=["optimizer.lr=.inf"])
