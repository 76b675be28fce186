"""The observational provenance tests through helm-run: the embedded model samples texts from transcript prompts;
the n-gram test matches them in the transcript, the reshuffle test scores them under a manifest of checkpoints.
Known answers: a transcript whose positions are planted to follow the matched counts gives the smallest
permutation p; the model that sampled the texts, listed as Alice's original run, ranks first."""

import json

import numpy as np
import torch
from scipy import stats

from helm_plugins.models.registration import TINY_DEFAULT_DIR
from helm_plugins.statistics.provenance.hypothesis_tests import encode_words, matched_counts, ngram_index
from helm_plugins.statistics.provenance.transcript import (
    TranscriptExample,
    read_checkpoint_manifest,
    read_transcript,
    write_checkpoint_manifest,
    write_transcript,
)
from tests.conftest import BIN, run_command

MODEL = "model=helm-plugins/tiny-default"
TEXTS = "texts=24,max_tokens=24,prompt_words=6"
PERMUTATIONS = 99


def perturbed_copies(root, count):
    """Checkpoints near tiny-default (Gaussian noise on every weight): stand-ins for reshuffled retrainings."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    folders = []
    for k in range(count):
        model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
        generator = torch.Generator().manual_seed(k)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.02 * torch.randn(parameter.shape, generator=generator))
        folder = root / f"reshuffle{k}"
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders.append(folder)
    return folders


def stats_of(suite, prefix):
    (run,) = suite.glob(f"{prefix}*")
    return run, {s["name"]["name"]: s["mean"] for s in json.loads((run / "stats.json").read_text())}


def completions(run):
    state = json.loads((run / "scenario_state.json").read_text())
    return [r["result"]["completions"][0]["text"] for r in state["request_states"]]


def test_ngram_and_reshuffle_tests_through_helm_run(tmp_path):
    transcript = tmp_path / "alice.jsonl"
    examples = read_transcript(TINY_DEFAULT_DIR / "transcript.jsonl")[:400]
    write_transcript(transcript, examples)
    copies = perturbed_copies(tmp_path, 3)
    write_checkpoint_manifest(tmp_path / "real.jsonl", TINY_DEFAULT_DIR, copies)
    # Alice's "real" run is a perturbed copy; the model that sampled the texts hides among the reshuffles
    write_checkpoint_manifest(tmp_path / "swapped.jsonl", copies[0], [TINY_DEFAULT_DIR, *copies[1:]])
    assert read_checkpoint_manifest(tmp_path / "real.jsonl") == (TINY_DEFAULT_DIR.resolve(), [c.resolve() for c in copies])
    helm_run = [BIN / "helm-run", "--suite", "s", "-o", tmp_path / "out", "--max-eval-instances", "100", "--run-entries"]
    run_command(helm_run + [
        f"hp_provenance_ngram:transcript={transcript},{TEXTS},bins=10,permutations={PERMUTATIONS},{MODEL}",
        f"hp_provenance_reshuffle:transcript={transcript},checkpoints={tmp_path / 'real.jsonl'},{TEXTS},{MODEL}",
        f"hp_provenance_reshuffle:transcript={transcript},checkpoints={tmp_path / 'swapped.jsonl'},{TEXTS},{MODEL}",
    ], cwd=tmp_path)
    suite = tmp_path / "out" / "runs" / "s"

    run, ngram = stats_of(suite, "hp_provenance_ngram:transcript=alice-")
    assert ngram["num_texts"] == 24 and ngram["failed_requests"] == 0 and ngram["partition_positions"] > 0
    assert 1 / (PERMUTATIONS + 1) <= ngram["partition_p"] <= 1

    _, real = stats_of(suite, "hp_provenance_reshuffle:transcript=alice-*checkpoints=real-")
    assert real["reshuffle_k"] == 3 and real["num_texts"] == 24
    assert real["reshuffle_rank_p"] == 0.25 and real["reshuffle_z"] > 0  # the sampling model ranks first: p = 1/(K+1)
    _, swapped = stats_of(suite, "hp_provenance_reshuffle:transcript=alice-*checkpoints=swapped-")
    assert swapped["reshuffle_rank_p"] >= 0.5 and swapped["reshuffle_z"] < 0

    # planted positions: Alice "trained" last on the documents the texts match most, so the matched count rises
    # with the step bin; same documents in the same order, so the prompts and the sampled texts are the same
    documents, texts = encode_words([e.text for e in examples], completions(run))
    counts, _ = matched_counts(len(documents), texts, ngram_index(documents))
    planted = stats.rankdata(counts + np.arange(len(counts)) * 1e-6)
    write_transcript(tmp_path / "planted.jsonl",
                     [TranscriptExample(e.id, e.text, float(p)) for e, p in zip(examples, planted)])
    run_command(helm_run + [
        f"hp_provenance_ngram:transcript={tmp_path / 'planted.jsonl'},{TEXTS},bins=10,permutations={PERMUTATIONS},{MODEL}",
    ], cwd=tmp_path)
    planted_run, planted_stats = stats_of(suite, "hp_provenance_ngram:transcript=planted-")
    assert completions(planted_run) == completions(run)
    assert planted_stats["partition_spearman"] > 0.9 and planted_stats["partition_p"] == 1 / (PERMUTATIONS + 1)


def test_reshuffle_entry_rejects_a_manifest_without_an_original(tmp_path):
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text(json.dumps({"path": str(TINY_DEFAULT_DIR), "original": False}) + "\n")
    failed = run_command([BIN / "helm-run", "--suite", "s", "-o", tmp_path / "out", "-m", "10", "--run-entries",
                          f"hp_provenance_reshuffle:transcript=tiny-default,checkpoints={manifest},{MODEL}"],
                         cwd=tmp_path, expect_success=False)
    assert "0 original checkpoints and 1 reshuffles" in failed.stdout + failed.stderr
