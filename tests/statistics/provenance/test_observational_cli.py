"""The observational tests through the command line: the reshuffle test from a scores file and the n-gram test
from a transcript and the suspect's texts, with planted answers, HELM runs, and bad files named."""

import json

import numpy as np

from helm_plugins.cli import main


def test_reshuffle_scores_file(tmp_path, capsys):
    scores = tmp_path / "scores.jsonl"
    rows = [{"model": "alice", "score": -100.0, "original": True}] + [{"model": f"shuffle{k}", "score": -110.0 - k} for k in range(9)]
    scores.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["provenance", "--reshuffle", str(scores), "--name", "org/bob", "--output", str(tmp_path / "o"),
                 "--suite", "s", "-o", str(tmp_path / "bo")]) == 0
    assert "rank p = 0.1000 (K = 9" in capsys.readouterr().out  # the floor 1 / (K + 1): Alice's run scores highest
    assert json.loads((tmp_path / "o" / "reshuffle_test.json").read_text())["rank_p"] == 0.1
    runs = list((tmp_path / "bo" / "runs" / "s").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("hp_provenance_reshuffle:model=")
    stats = {s["name"]["name"]: s["mean"] for s in json.loads((runs[0] / "stats.json").read_text())}
    assert stats["reshuffle_rank_p"] == 0.1
    scores.write_text('{"model": "a", "score": 1.0, "original": true}\n{"model": "b", "score": 2.0, "original": true}\n')
    assert main(["provenance", "--reshuffle", str(scores), "--output", str(tmp_path / "o")]) == 2
    assert 'scores.jsonl: 2 rows have "original": true; exactly one must' in capsys.readouterr().err
    scores.write_text('{"model": "a", "score": "x", "original": true}\n')
    assert main(["provenance", "--reshuffle", str(scores), "--output", str(tmp_path / "o")]) == 2
    assert "scores.jsonl:1: field 'score' must be a finite number" in capsys.readouterr().err


def test_ngram_test_detects_texts_echoing_late_documents(tmp_path, capsys):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    documents = [" ".join(rng.choice(words, 30)) for _ in range(200)]
    transcript = tmp_path / "alice.jsonl"
    transcript.write_text("".join(json.dumps({"id": f"d{i}", "text": t, "position": i}) + "\n" for i, t in enumerate(documents)))

    def texts_file(name, sources):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"id": f"t{k}", "text": " ".join(documents[i].split()[5:17])}) + "\n"
                                for k, i in enumerate(sources)))
        return path

    late = texts_file("bob.jsonl", rng.choice(np.arange(100, 200), 60, p=np.linspace(0.2, 1.8, 100) / 100))
    independent = texts_file("carol.jsonl", rng.choice(200, 60))
    p_values = {}
    for name, path in (("bob", late), ("carol", independent)):
        assert main(["provenance", "--transcript", str(transcript), "--texts", str(path), "--name", name,
                     "--permutations", "199", "--output", str(tmp_path / name)]) == 0
        p_values[name] = json.loads((tmp_path / name / "ngram_test.json").read_text())["permutation_p"]
    assert p_values["bob"] <= 0.01 and p_values["carol"] > 0.01
    assert "n-gram test of bob: Spearman +" in capsys.readouterr().out
    assert main(["provenance", "--texts", str(late)]) == 2
    assert "--texts needs --transcript" in capsys.readouterr().err
