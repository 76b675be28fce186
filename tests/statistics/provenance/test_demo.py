import json

import pytest

from helm_plugins.cli import main
from helm_plugins.statistics.provenance.demo import ProvenanceDemoConfig, run_demo


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    config = ProvenanceDemoConfig(
        examples=160, new_examples=16, query_sizes=[40, 160], permutations=49, reshuffles=2, generations=3,
        generation_tokens=8, threads=2,
    )
    output = tmp_path_factory.mktemp("provenance")
    return run_demo(config, output, progress=False), output


def test_demo_writes_transcript_losses_results_and_plot(small_demo):
    result, output = small_demo
    assert set(result.query) == {f"{s}{r}" for s in ("alice", "bob", "carol") for r in ("", "+reference")}
    assert [r.n for r in result.query["bob+reference"]] == [40, 160]
    assert set(result.reshuffle) == {"alice", "bob", "carol"}
    assert all(len(test["scores"]) == 3 for test in result.reshuffle.values())  # mu_0 and K = 2 reshuffles
    assert set(result.partition) == {"alice", "bob", "carol"}
    assert all(0 < test["permutation_p"] <= 1 and test["positions"] > 0 for test in result.partition.values())
    for name in ("transcript.jsonl", "losses_bob.jsonl", "losses_reference.jsonl", "results.json", "provenance.png"):
        assert (output / name).stat().st_size > 0
    results = json.loads((output / "results.json").read_text())
    assert results["query"]["alice+reference"][-1]["n"] == 160


def test_cli_tests_the_demo_files_and_writes_a_helm_run(small_demo, tmp_path, capsys):
    _, output = small_demo
    code = main([
        "provenance", "--transcript", str(output / "transcript.jsonl"), "--losses", str(output / "losses_bob.jsonl"),
        "--reference", str(output / "losses_reference.jsonl"), "--name", "org/bob", "--permutations", "0",
        "--output", str(tmp_path / "out"), "--suite", "s", "-o", str(tmp_path / "bo"),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| org/bob | 160 | yes |" in printed
    run_dirs = list((tmp_path / "bo" / "runs" / "s").iterdir())
    assert len(run_dirs) == 1 and run_dirs[0].name.startswith("hp_provenance:reference=")
    stats = {s["name"]["name"] for s in json.loads((run_dirs[0] / "stats.json").read_text())}
    assert {"provenance_spearman", "provenance_log10_p", "provenance_z", "num_examples"} <= stats


def test_cli_rejects_ambiguous_requests(capsys):
    assert main(["provenance"]) == 2
    assert "give either --demo or --transcript with --losses" in capsys.readouterr().err
    assert main(["provenance", "--transcript", "t.jsonl"]) == 2
    assert "--transcript needs --losses" in capsys.readouterr().err
