"""The synthetic audio suites through helm-run on the offline deployments, the aspect report, and the leaderboard."""

import json

import pytest

from tests.audio.fake_audio_server import FakeAudioServer, fake_server  # noqa: F401  (fixture)
from tests.conftest import BIN, REPO, run_command

PS, CASCADE = "helm-plugins/pocketsphinx", "helm-plugins/pocketsphinx_tiny-default"
DISPLAY_NAMES = {"pocketsphinx (ASR)": PS, "pocketsphinx + tiny-default": CASCADE}
ENTRIES = [
    f"hp_audio_asr:num_sentences=2,model={PS}",
    f"hp_audio_asr:num_sentences=2,model={CASCADE}",
    f"hp_audio_asr:num_sentences=2,snr_db=15,model={PS}",
    f"hp_audio_asr_fairness:num_sentences=2,model={PS}",
    f"hp_audio_parade:voice=female,model={PS}",
    f"hp_audio_parade:voice=female,model={CASCADE}",
    f"hp_audio_core:num_instances=3,model={CASCADE}",
    f"hp_audio_knowledge:num_questions=3,model={PS}",
    f"hp_audio_knowledge:num_questions=3,model={CASCADE}",
    f"hp_audio_safety:num_requests=2,max_tokens=20,model={PS}",
    f"hp_audio_safety:num_requests=2,max_tokens=20,model={CASCADE}",
]


@pytest.fixture(scope="module")
def audio_suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("audio")
    run_command([BIN / "helm-run", "--run-entries", *ENTRIES, "--suite", "a", "-m", "8", "-n", "2"], cwd=root)
    report = run_command([BIN / "helm-plugins", "audio-report", "--suite", "a", "--resamples", "50"], cwd=root)
    summary = run_command([BIN / "helm-plugins", "summarize", "--suite", "a", "--num-threads", "1"], cwd=root)
    assert "does not have any stat matched" not in summary.stdout + summary.stderr
    return root, report.stdout


def _stats(run_dir):
    return {s["name"]["name"]: s.get("mean") for s in json.loads((run_dir / "stats.json").read_text())
            if s["name"]["split"] == "test" and not s["name"].get("perturbation")}


@pytest.mark.slow
def test_runs_score_real_transcripts(audio_suite):
    root, _ = audio_suite
    runs = root / "benchmark_output" / "runs" / "a"
    asr = _stats(next(runs.glob("hp_audio_asr:voices=rms+slt,num_sentences=2,seed=0,model=helm-plugins_pocketsphinx")))
    assert 0 <= asr["wer_score"] <= 0.5 and asr["failed_request"] == 0  # flite voices: pocketsphinx WER about 0.1
    noisy = _stats(next(runs.glob("hp_audio_asr:*snr_db=15,model=helm-plugins_pocketsphinx")))
    assert noisy["wer_score"] > asr["wer_score"]  # 15 dB of white noise hurts pocketsphinx
    fairness = _stats(next(runs.glob("hp_audio_asr_fairness:*")))
    assert {"wer_female", "wer_male", "wer_gap", "wer_gap_p_value", "wer_gap_voice_p_value", "wer_voice_espeak_f1"} <= set(fairness)
    safety = _stats(next(runs.glob("hp_audio_safety:*model=helm-plugins_pocketsphinx")))
    assert safety["refusal_rate"] == 0 and safety["judge_requests"] == 1  # a transcript never refuses
    parade = _stats(next(runs.glob("hp_audio_parade:*model=helm-plugins_pocketsphinx")))
    assert parade["invalid_answer"] == 1  # a transcript is no option letter: scored wrong, counted
    state = json.loads(next(runs.glob("hp_audio_core:*")).joinpath("scenario_state.json").read_text())
    completion = state["request_states"][0]["result"]["completions"][0]
    assert "[TRANSCRIBED AUDIO" not in completion["text"]
    assert len(completion["multimodal_content"]["media_objects"][0]["text"].split()) > 10  # the dialogue transcript


@pytest.mark.slow
def test_aspect_report_agrees_with_helms_summarizer(audio_suite):
    root, stdout = audio_suite
    output = root / "audio_output" / "a"
    report = json.loads((output / "audio_report.json").read_text())
    assert len(report["aspects"]) == 10 and "emotion" in report["aspects_without_runs"]
    perception = report["mean_win_rate"]["perception"]
    assert perception[PS] == 1.0 and perception[CASCADE] == 0.0  # ASR alone beats the cascade at transcribing
    assert report["fairness"][0]["model"] == PS and 0 <= report["fairness"][0]["p_value"] <= 1
    assert "| helm-plugins/pocketsphinx |" in stdout and (output / "audio_aspects.png").stat().st_size > 10_000
    groups = root / "benchmark_output" / "runs" / "a" / "groups"
    for aspect in ("perception", "bias", "knowledge", "safety"):
        # helm-summarize's table of the aspect group: its mean win rate column is the report's number
        table = json.loads((groups / f"hp_audio_aspect_{aspect}.json").read_text())[0]
        headers = [h["value"] for h in table["header"]]
        column = headers.index("Win rate, mean over scenarios ↑")  # AHELM: a win rate across the scenarios
        by_model = {DISPLAY_NAMES[row[0]["value"]]: round(row[column]["value"], 6) for row in table["rows"]}
        assert by_model == {m: round(v, 6) for m, v in report["mean_win_rate"][aspect].items()}, aspect


def test_conf_priority_one_is_offline_and_small():
    from helm_plugins.audio.run_specs import POCKETSPHINX, POCKETSPHINX_TINY_CHAT, POCKETSPHINX_TINY_DEFAULT
    from helm_plugins.models.registration import TINY_DEFAULT

    conf = (REPO / "run_specs" / "audio.conf").read_text()
    first = [line for line in conf.splitlines() if "priority: 1}" in line]
    assert len(first) == 22
    offline = (f"model={POCKETSPHINX},", f"model={POCKETSPHINX}\"", f"model={POCKETSPHINX_TINY_DEFAULT}\"",
               f"model={POCKETSPHINX_TINY_CHAT}\"", f"model={TINY_DEFAULT}\"")
    assert all(any(model in line for model in offline) for line in first)


FAKE_MODEL = """models:
  - name: fake/audio-model
    display_name: Fake audio model
    description: A local OpenAI-compatible server that transcribes the input_audio it receives with pocketsphinx.
    creator_organization_name: fake
    access: open
    release_date: 2025-01-01
    tags: [AUDIO_LANGUAGE_MODEL_TAG]
"""
FAKE_DEPLOYMENT = """model_deployments:
  - name: fake/audio-model
    model_name: fake/audio-model
    tokenizer_name: simple/tokenizer1
    max_sequence_length: 128000
    client_spec:
      class_name: helm_plugins.audio.clients.OpenAIAudioClient
      args:
        base_url: {url}
        api_key: test-key
        openai_model_name: audio-model
"""


@pytest.mark.slow
def test_helm_run_sends_the_wav_to_an_api_model(fake_server, tmp_path):
    FakeAudioServer.transcribe = True
    prod_env = tmp_path / "prod_env"
    prod_env.mkdir()
    (prod_env / "model_metadata.yaml").write_text(FAKE_MODEL)
    (prod_env / "model_deployments.yaml").write_text(FAKE_DEPLOYMENT.format(url=fake_server))
    run_command([BIN / "helm-run", "--run-entries", "hp_audio_asr:num_sentences=2,model=fake/audio-model", "--suite", "api",
                 "-m", "4", "-n", "1"], cwd=tmp_path)
    run_dir = next((tmp_path / "benchmark_output" / "runs" / "api").glob("hp_audio_asr:*"))
    stats = _stats(run_dir)
    assert stats["failed_request"] == 0 and stats["wer_score"] <= 0.5  # the server heard the sentences
    assert len(FakeAudioServer.received) == 4
    for body in FakeAudioServer.received:  # HELM's instructions, then the audio
        assert [part["type"] for part in body["messages"][0]["content"]] == ["text", "input_audio"]
