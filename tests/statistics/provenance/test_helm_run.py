"""The query test through helm-run: HELM's language-modelling adapter on the embedded model, reference losses
from a JSONL file and from another run of the suite."""

import json

from helm_plugins.statistics.provenance.transcript import read_transcript, write_losses
from tests.conftest import BIN, REPO, run_command

ENTRY = "hp_provenance:transcript=tiny-default,max_examples=40,permutations=99"


def run_dir(root, reference):
    (path,) = (root / "out" / "runs" / "p").glob(f"hp_provenance:*reference={reference},*")
    return path


def stats(path):
    return {s["name"]["name"]: s["mean"] for s in json.loads((path / "stats.json").read_text())}


def per_instance_losses(path):
    return {
        row["instance_id"]: stat["mean"]
        for row in json.loads((path / "per_instance_stats.json").read_text())
        for stat in row["stats"]
        if stat["name"]["name"] == "provenance_log_loss"
    }


def test_query_test_through_helm_run(tmp_path):
    helm_run = [BIN / "helm-run", "--suite", "p", "-o", tmp_path / "out", "--max-eval-instances", "1000", "--run-entries"]
    run_command(helm_run + [f"{ENTRY},model=helm-plugins/tiny-default"], cwd=tmp_path)
    plain = run_dir(tmp_path, "none")
    losses = per_instance_losses(plain)
    assert len(losses) == 40 and all(0 < loss < 20 for loss in losses.values())
    assert stats(plain)["num_examples"] == 40 and stats(plain)["failed_requests"] == 0

    # a planted reference: the suspect's own losses plus a term growing with the training position, so the
    # relative loss falls exactly with position (Spearman -1), matched by example id
    positions = {e.id: e.position for e in read_transcript(REPO / "helm_plugins/models/tiny_default/transcript.jsonl")}
    write_losses(tmp_path / "planted.jsonl", {i: loss + 1e-4 * positions[i] for i, loss in reversed(list(losses.items()))})
    run_command(helm_run + [f"{ENTRY},reference={tmp_path / 'planted.jsonl'},model=helm-plugins/tiny-default"], cwd=tmp_path)
    planted = stats(run_dir(tmp_path, "planted-*"))  # the file name and a hash of its content
    assert planted["provenance_spearman"] < -0.999 and planted["provenance_log10_p"] < -10

    # the reference looked up in the suite: the same model, so the relative losses are all zero
    run_command(helm_run + [f"{ENTRY},reference=helm-plugins/tiny-default,model=helm-plugins/tiny-default"], cwd=tmp_path)
    same = stats(run_dir(tmp_path, "helm-plugins_tiny-default"))
    assert same["provenance_spearman"] == 0 and same["provenance_log10_p"] == 0

    missing = run_command(
        helm_run + [f"{ENTRY},reference=org/absent,model=helm-plugins/tiny-default"], cwd=tmp_path, expect_success=False
    )
    assert "no hp_provenance run of it on transcript 'tiny-default'" in missing.stdout + missing.stderr
