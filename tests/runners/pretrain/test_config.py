import pytest

from helm_plugins.common.configs import parse_overrides
from helm_plugins.runners.pretrain.config import load_config, preset_names


def test_presets_load_and_overrides_are_typed():
    assert {"demo", "tiny-default"} <= set(preset_names())
    config = load_config("demo", overrides=["model.n_layer=3", "optimizer.betas=[0.8, 0.99]", "run_name=x1"])
    assert config.model.n_layer == 3 and config.optimizer.betas == (0.8, 0.99) and config.run_name == "x1"
    assert parse_overrides(["a.b.c=3", "a.d=x"]) == {"a": {"b": {"c": 3}, "d": "x"}}
    assert load_config("demo", overrides=["optimizer.lr=1e-3"]).optimizer.lr == 1e-3


def test_unknown_and_bad_keys_are_named():
    with pytest.raises(ValueError, match=r"model.n_layers: Extra inputs are not permitted"):
        load_config("demo", overrides=["model.n_layers=3"])
    with pytest.raises(ValueError, match=r"batch_size: Input should be greater than 0"):
        load_config("demo", overrides=["batch_size=0"])
    with pytest.raises(ValueError, match="not of the form key=value"):
        load_config("demo", overrides=["batch_size"])
    with pytest.raises(ValueError, match="no config file .*nope.yaml \\(presets: demo, tiny-chat, tiny-chat-judge, tiny-default\\)"):
        load_config("nope")


def test_config_file_overlays_the_preset(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("seed: 5\nschedule: {decay: linear}\n")
    config = load_config("demo", config_file=extra)
    assert config.seed == 5 and config.schedule.decay == "linear" and config.schedule.warmup_steps == 30
