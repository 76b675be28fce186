"""Entropy calibration through helm-run on the embedded model: the loss run's per-step log loss is the model's
own teacher-forced loss on the continuation, the sampled-token estimate of H_t agrees with the exact entropy,
the loss run pairs with the generation run into EntCE, and `entce --from-suite` reads the pair."""

import json

import numpy as np
import pytest
import torch

from helm_plugins.statistics.entropy_calibration.scenarios import EntropyCalibrationScenario
from tests.conftest import BIN, run_command

ARGS = "documents=16,steps=12,prompt_words=8"


def runs(root):
    """part -> run folder (the runs at temperature 1)"""
    return {p.name.split(",")[0].split("=")[1]: p for p in (root / "out" / "runs" / "e").glob("hp_entce:*tau=1.0*")}


def stats(run_dir):
    return {(s["name"]["name"], s["name"].get("sub_split")): s["mean"] for s in json.loads((run_dir / "stats.json").read_text())
            if s["name"].get("perturbation") is None}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("entce")
    run_command([BIN / "helm-run", "--suite", "e", "-o", root / "out", "--max-eval-instances", "100", "--run-entries",
                 f"hp_entce:part=generation,{ARGS},samples=6,prompt_prefix=<|endoftext|>,model=helm-plugins/tiny-default",
                 f"hp_entce:part=loss,{ARGS},model=helm-plugins/tiny-default",
                 f"hp_entce:part=generation,{ARGS},tau=0.5,prompt_prefix=<|endoftext|>,model=helm-plugins/tiny-default"],
                cwd=root)
    return root


@pytest.fixture(scope="module")
def exact(suite):
    """Exact per-step entropies (over the model's own samples) and losses of the same documents, in process."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR
    from helm_plugins.statistics.entropy_calibration.demo import measure_model

    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    scenario = EntropyCalibrationScenario("loss", documents=16, prompt_words=8, continuation_words=12)
    losses, entropies = [], []
    for instance in scenario.get_instances(""):
        continuation = instance.extra_data["continuation"]
        prompt_ids = tokenizer.encode(instance.input.text[: -len(continuation)])
        continuation_ids = tokenizer.encode(instance.input.text)[len(prompt_ids):][:12]
        prompt_ids = [tokenizer.eos_token_id] + prompt_ids  # as HELM's language-modelling adapter
        h, l = measure_model(model, torch.tensor([prompt_ids] * 8), torch.tensor([continuation_ids] * 8), 1.0, seed=0)
        entropies.append(h.mean(0))
        losses.append(l[0])
    return np.array(entropies), np.array(losses)


def test_loss_run_is_the_teacher_forced_loss(suite, exact):
    _, losses = exact
    loss = stats(runs(suite)["loss"])
    per_step = [loss[("log_loss_at_step", f"step {t:04d}")] for t in range(1, 13)]
    np.testing.assert_allclose(per_step, losses.mean(0), atol=1e-4)
    assert loss[("failed_requests", None)] == 0 and loss[("steps_with_tokens", None)] == 12


def test_sampled_token_estimate_matches_the_exact_entropy(suite, exact):
    entropies, _ = exact
    generation = stats(runs(suite)["generation"])
    # 16 prompts x 6 samples x 12 steps of sampled-token NLL against exact entropies over 8 other samples
    assert generation[("mean_entropy", None)] == pytest.approx(entropies.mean(), abs=0.12)


def test_helm_run_samples_carry_full_distribution_logprobs(suite):
    """Through helm-run, each sampled token's log-probability is the full softmax's at the run's temperature (a
    top-k-truncated sampler reports higher ones and biases the entropy estimate low)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR
    from tests.statistics.entropy_calibration.test_full_distribution import rescore

    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    root = suite / "out" / "runs" / "e"
    for run_dir, tau in ((runs(suite)["generation"], 1.0), (next(root.glob("hp_entce:part=generation,*tau=0.5*")), 0.5)):
        states = json.loads((run_dir / "scenario_state.json").read_text())["request_states"][:4]
        rows = [row for state in states for completion in state["result"]["completions"]
                for row in rescore(model, tokenizer, state["request"]["prompt"], completion["tokens"], tau)]
        assert len(rows) >= 50
        np.testing.assert_allclose([gap for gap, _, _ in rows], 0, atol=1e-4)


def test_loss_run_pairs_with_the_generation_run(suite):
    loss, generation = stats(runs(suite)["loss"]), stats(runs(suite)["generation"])
    h = np.array([generation[("entropy_at_step", f"step {t:04d}")] for t in range(1, 13)])
    l = np.array([loss[("log_loss_at_step", f"step {t:04d}")] for t in range(1, 13)])
    assert loss[("entce", None)] == pytest.approx(np.mean(h - l))
    assert loss[("mean_entropy", None)] == pytest.approx(generation[("mean_entropy", None)])
    assert 0 < loss[("entce_stderr", None)] < 1


def test_report_from_suite_and_scaling_needs_three_models(suite, tmp_path):
    completed = run_command([BIN / "helm-plugins", "entce", "--from-suite", "e", "-o", suite / "out", "--output", tmp_path / "r"],
                            cwd=suite)
    assert "| helm-plugins/tiny-default |" in completed.stdout
    report = json.loads((tmp_path / "r" / "results.json").read_text())
    assert report["models"]["helm-plugins/tiny-default"]["steps"] == 12
    by_temperature = report["generation_entropy_by_temperature"]["helm-plugins/tiny-default"]
    assert set(by_temperature) == {"0.5", "1.0"} and by_temperature["0.5"] < by_temperature["1.0"]
    assert (tmp_path / "r" / "entropy_calibration.png").stat().st_size > 10_000
    (tmp_path / "sizes.csv").write_text("model,parameters\nhelm-plugins/tiny-default,957184\n")
    failed = run_command([BIN / "helm-plugins", "entce", "--from-suite", "e", "-o", suite / "out", "--sizes",
                          tmp_path / "sizes.csv", "--output", tmp_path / "r"], cwd=suite, expect_success=False)
    assert failed.returncode == 2 and "the exponent needs >= 3" in failed.stderr


def test_loss_run_without_its_generation_run_has_no_entce(tmp_path):
    run_command([BIN / "helm-run", "--suite", "e", "-o", tmp_path / "out", "--max-eval-instances", "4", "--run-entries",
                 "hp_entce:part=loss,documents=4,steps=4,prompt_words=4,model=helm-plugins/tiny-default"], cwd=tmp_path)
    assert ("entce", None) not in stats(runs(tmp_path)["loss"])
    missing = run_command([BIN / "helm-plugins", "entce", "--from-suite", "e", "-o", tmp_path / "out"], cwd=tmp_path,
                          expect_success=False)
    assert "no pair of hp_entce runs" in missing.stderr and "unpaired loss runs" in missing.stderr
