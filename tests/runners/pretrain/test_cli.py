import json

from helm_plugins.cli import main
from helm_plugins.common.results import read_stats

from tests.runners.pretrain.conftest import SMALL


def _pretrain(tmp_path, *extra):
    args = ["pretrain", "--recipe", "demo", "--output", str(tmp_path / "run"), "--no-progress"]
    for override in SMALL:
        args += ["--set", override]
    return main(args + list(extra))


def test_list_shows_recipes_and_optimizers(capsys):
    assert main(["pretrain", "--list"]) == 0
    out = capsys.readouterr().out
    assert "recipe    demo" in out and "recipe    tiny-default" in out and "optimizers: adamw" in out


def test_bad_config_and_recipe_exit_2_with_the_reason(tmp_path, capsys):
    assert _pretrain(tmp_path, "--set", "model.n_layers=2") == 2
    assert "model.n_layers: Extra inputs are not permitted" in capsys.readouterr().err
    assert main(["pretrain", "--recipe", "tiny-defualt"]) == 2
    assert "unknown pretraining recipe 'tiny-defualt'. Did you mean 'tiny-default'" in capsys.readouterr().err


def test_stop_resume_and_helm_run_output(tmp_path, capsys):
    suite = ["--suite", "s", "-o", str(tmp_path / "out")]
    assert _pretrain(tmp_path, "--stop-at-step", "12", *suite) == 0
    assert "stopped at step 12 (rerun to resume)" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()  # nothing is reported before the run completes
    assert _pretrain(tmp_path, *suite) == 0
    assert "small: done" in capsys.readouterr().out
    (run_dir,) = (tmp_path / "out" / "runs" / "s").iterdir()
    assert run_dir.name == "hp_pretrain:recipe=demo,optimizer=adamw,seed=0,model=helm-plugins_small"
    stats = read_stats(run_dir)
    assert stats["train_tokens@train"] == 30 * 8 * 32 and stats["val_loss@valid"] > 0
    assert (run_dir / "loss_curve.png").is_file()
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["train_losses"]) == 30


def test_export_dir_gets_a_loadable_checkpoint_with_its_report(tmp_path):
    assert _pretrain(tmp_path, "--export-dir", str(tmp_path / "export")) == 0
    report = json.loads((tmp_path / "export" / "training_report.json").read_text())
    assert report["steps"] == 30 and report["config"]["run_name"] == "small"
    assert (tmp_path / "export" / "model.safetensors").is_file()


def test_the_chat_recipe_trains_a_second_stage_from_the_first(tmp_path, monkeypatch, capsys):
    import helm_plugins.runners.pretrain.config as config_module
    from helm_plugins.runners.pretrain.recipes import CHAT_TUNING_PRESET
    from helm_plugins.synthetic.chat_formats import CHAT_TEMPLATE

    real_load_config = config_module.load_config

    def small_tuning_stage(preset=None, config_file=None, overrides=()):
        if preset == CHAT_TUNING_PRESET:  # the second stage at the test's size, with its own data mixture
            return real_load_config("demo", overrides=SMALL + ["seed=1", "max_steps=10"])
        return real_load_config(preset, config_file, overrides)

    monkeypatch.setattr(config_module, "load_config", small_tuning_stage)
    args = ["pretrain", "--recipe", "tiny-chat", "--output", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export"),
            "--no-progress"] + [arg for override in SMALL + ["data.loss_on=all", "data.packing=concatenate"]
                         for arg in ("--set", override)]
    assert main(args + ["--stop-at-step", "35"]) == 0  # the first stage's 30 steps, then 5 of the second
    assert "stopped at step 5" in capsys.readouterr().out and not (tmp_path / "export").exists()
    assert main(args) == 0  # resumes the second stage
    report = json.loads((tmp_path / "export" / "training_report.json").read_text())
    assert report["steps"] == 10 and report["config"]["seed"] == 1
    assert report["config"]["init_from"] == str(tmp_path / "run" / "base" / "huggingface")
    assert report["initialised_from"]["steps"] == 30 and report["initialised_from"]["config"]["seed"] == 0
    assert json.loads((tmp_path / "export" / "tokenizer_config.json").read_text())["chat_template"] == CHAT_TEMPLATE
