"""The offline cascade on real synthetic speech, and the API audio path against a local OpenAI-compatible server."""

import wave

import pytest
from helm.common.cache import BlackHoleCacheConfig
from helm.common.media_object import MediaObject, MultimediaObject
from helm.common.request import Request

from helm_plugins.audio.clients import OpenAIAudioClient, SpeechCascadeClient, Truecaser
from helm_plugins.audio.metrics import asr_scores
from helm_plugins.audio.synthesis import Synthesizer
from tests.audio.fake_audio_server import FakeAudioServer, fake_server  # noqa: F401  (fixture)

SENTENCES = ["the young doctor carried a heavy box to the station", "my careful farmer bought a chair at the church"]
CASCADE_WER_BOUND = 0.25  # pocketsphinx on flite's slt and rms voices: measured 0.0-0.2 per sentence


def _audio_request(path, model="helm-plugins/pocketsphinx", question="What is said?"):
    media = [MediaObject(content_type="audio/wav", location=str(path))]
    if question:
        media.append(MediaObject(content_type="text/plain", text=question))
    return Request(model=model, model_deployment=model, multimodal_prompt=MultimediaObject(media), max_tokens=10)


def test_cascade_transcribes_synthetic_speech_under_the_wer_bound(tmp_path):
    client = SpeechCascadeClient(BlackHoleCacheConfig())
    synthesizer = Synthesizer(tmp_path)
    wers = []
    for sentence, voice in zip(SENTENCES, ["slt", "rms"]):
        result = client.make_request(_audio_request(synthesizer.speak(sentence, voice), question=None))
        assert result.success
        wers.append(asr_scores(sentence, result.completions[0].text)["wer_score"])
    assert sum(wers) / len(wers) <= CASCADE_WER_BOUND


def test_cascade_records_unusable_audio_as_a_non_retriable_failure(tmp_path):
    client = SpeechCascadeClient(BlackHoleCacheConfig())
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....garbage")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    for path in (corrupt, empty):
        result = client.make_request(_audio_request(path))
        assert not result.success and result.error.startswith("unusable audio:")
        assert result.error_flags.is_retriable is False and result.error_flags.is_fatal is False
    text_only = client.make_request(Request(model="helm-plugins/pocketsphinx", model_deployment="helm-plugins/pocketsphinx",
                                            prompt="hello"))
    assert not text_only.success and "multimodal" in text_only.error


def test_cascade_resamples_other_rates(tmp_path):
    import subprocess

    clean = Synthesizer(tmp_path).speak(SENTENCES[0], "slt")
    resampled = tmp_path / "44k.wav"
    subprocess.run(["sox", str(clean), "-r", "44100", str(resampled)], check=True)
    result = SpeechCascadeClient(BlackHoleCacheConfig()).make_request(_audio_request(resampled, question=None))
    assert asr_scores(SENTENCES[0], result.completions[0].text)["wer_score"] <= CASCADE_WER_BOUND


def test_api_client_sends_base64_wav_as_input_audio(fake_server, tmp_path):
    path = Synthesizer(tmp_path).speak("good morning", "rms")
    client = OpenAIAudioClient(BlackHoleCacheConfig(), api_key="test-key", base_url=fake_server, max_retries=0)
    result = client.make_request(_audio_request(path, model="openai/gpt-4o-audio-preview-2024-12-17"))
    assert result.success, result.error
    with wave.open(str(path)) as wav:
        assert result.completions[0].text == f"16000 Hz, {wav.getnframes()} frames"
    content = FakeAudioServer.received[0]["messages"][0]["content"]
    assert [part["type"] for part in content] == ["input_audio", "text"]
    assert content[1]["text"] == "What is said?"
    assert FakeAudioServer.received[0]["model"] == "gpt-4o-audio-preview-2024-12-17"


def test_api_client_records_an_audio_refusal_without_retrying(fake_server, tmp_path):
    FakeAudioServer.reject_audio = True
    path = Synthesizer(tmp_path).speak("good morning", "rms")
    client = OpenAIAudioClient(BlackHoleCacheConfig(), api_key="test-key", base_url=fake_server, max_retries=0)
    result = client.make_request(_audio_request(path, model="openai/gpt-4o-mini"))
    assert not result.success and "does not support audio" in result.error
    assert result.error_flags.is_retriable is False and result.error_flags.is_fatal is False
    assert "test-key" not in result.error


def test_api_client_never_sends_unreadable_audio(fake_server, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    client = OpenAIAudioClient(BlackHoleCacheConfig(), api_key="test-key", base_url=fake_server, max_retries=0)
    result = client.make_request(_audio_request(empty, model="openai/gpt-4o-audio-preview-2024-12-17"))
    assert not result.success and "empty (0 bytes)" in result.error and result.error_flags.is_retriable is False
    assert FakeAudioServer.received == []


def test_cascade_rejects_audio_below_8khz(tmp_path):
    import numpy as np

    from helm_plugins.audio.synthesis import write_wav

    low = tmp_path / "low.wav"
    write_wav(low, np.random.default_rng(0).normal(0, 0.1, 4000), rate=4000)
    result = SpeechCascadeClient(BlackHoleCacheConfig()).make_request(_audio_request(low))
    assert not result.success and "needs at least 8000 Hz" in result.error


def test_cascade_fits_a_long_transcript_into_the_text_model_window(tmp_path):
    import helm_plugins.plugin  # noqa: F401  (registers tiny-default)
    from helm.common.cache_backend_config import SqliteCacheBackendConfig
    from helm.common.tokenization_request import TokenizationRequest

    from helm_plugins.models.registration import TINY_DEFAULT

    (tmp_path / "prod_env" / "cache").mkdir(parents=True)  # helm-run makes it before any client
    cache = SqliteCacheBackendConfig(str(tmp_path / "prod_env" / "cache")).get_cache_config("helm-plugins")
    client = SpeechCascadeClient(cache, text_deployment=TINY_DEFAULT)
    prompt = "the old man walked home. " * 200 + "Question: who walked home?"
    fitted = client._fit_to_context(prompt, max_tokens=10)
    tokenizer = client._text_client()._auto_tokenizer
    tokens = tokenizer.tokenize(TokenizationRequest(fitted, tokenizer=TINY_DEFAULT, encode=True)).tokens
    assert len(tokens) <= 256 - 10 and fitted.endswith("Question: who walked home?")
    assert client._fit_to_context("short prompt", max_tokens=10) == "short prompt"


def test_litellm_client_sends_input_audio_and_records_refusals(fake_server, tmp_path):
    from helm_plugins.audio.clients import LiteLLMAudioClient

    path = Synthesizer(tmp_path).speak("good morning", "rms")
    client = LiteLLMAudioClient(BlackHoleCacheConfig(), litellm_model="openai/audio-model", api_base=fake_server,
                                api_key="test-key")
    result = client.make_request(_audio_request(path, model="litellm/audio-model"))
    assert result.success, result.error
    with wave.open(str(path)) as wav:
        assert result.completions[0].text == f"16000 Hz, {wav.getnframes()} frames"
    assert [p["type"] for p in FakeAudioServer.received[0]["messages"][0]["content"]] == ["input_audio", "text"]
    FakeAudioServer.reject_audio = True
    refused = client.make_request(_audio_request(path, model="litellm/audio-model"))
    assert not refused.success and "does not support audio" in refused.error
    assert refused.error_flags.is_retriable is False and "test-key" not in refused.error


def test_a_transcript_does_not_depend_on_what_was_decoded_before(tmp_path):
    from helm_plugins.audio.clients import PocketsphinxTranscriber
    from helm_plugins.audio.synthesis import read_wav
    from helm_plugins.audio.texts import asr_sentences

    # a pair where pocketsphinx's feature state, carried over from the first utterance, changed the second
    sentence = asr_sentences(6, 0)[0]
    synthesizer = Synthesizer(tmp_path)
    before, target = (read_wav(synthesizer.speak(sentence, voice)) for voice in ("rms", "espeak-m"))
    fresh = PocketsphinxTranscriber().transcribe_samples(target)
    used = PocketsphinxTranscriber()
    used.transcribe_samples(before)
    assert used.transcribe_samples(target) == fresh


def test_cascade_reads_mp3_like_the_released_data(tmp_path):
    import subprocess

    mp3 = tmp_path / "speech.mp3"  # PARADE and CoRe-Bench ship MP3 (audio/mpeg); sox decodes it with libsox-fmt-mp3
    subprocess.run(["sox", str(Synthesizer(tmp_path).speak(SENTENCES[0], "slt")), "-C", "128", str(mp3)], check=True)
    media = MultimediaObject([MediaObject(content_type="audio/mpeg", location=str(mp3))])
    request = Request(model="helm-plugins/pocketsphinx", model_deployment="helm-plugins/pocketsphinx", multimodal_prompt=media)
    result = SpeechCascadeClient(BlackHoleCacheConfig()).make_request(request)
    assert result.success  # MP3 coding costs pocketsphinx some words: WER 0.4 here against 0.1 on the WAV
    assert asr_scores(SENTENCES[0], result.completions[0].text)["wer_score"] <= 0.5


def test_truecaser_restores_the_most_frequent_capitalisation():
    truecase = Truecaser(["Omar lives in Leeds. Omar keeps a cat.", "Where does Omar live? In Leeds, said the cat."])
    assert truecase("where does omar live") == "Where does Omar live"
    assert truecase("the cat keeps zoe") == "The cat keeps zoe"  # unknown words stay as they are


class _EchoTextModel:
    """Stands in for HELM's AutoClient: answers with the prompt it got."""

    def __init__(self):
        self.prompts = []

    def make_request(self, request):
        from helm.common.request import GeneratedOutput, RequestResult

        self.prompts.append(request.prompt)
        return RequestResult(success=True, cached=False, embedding=[],
                             completions=[GeneratedOutput(text=request.prompt, logprob=0.0, tokens=[])])


@pytest.mark.parametrize("transcript_format", ["plain", "markers"])
def test_cascade_passes_the_transcript_in_the_chosen_format(tmp_path, transcript_format):
    from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment

    register_model_deployment(ModelDeployment(name="test-audio/echo", model_name="test-audio/echo",
                                              client_spec=ClientSpec(class_name="x.Y")))
    client = SpeechCascadeClient(BlackHoleCacheConfig(), text_deployment="test-audio/echo",
                                 transcript_format=transcript_format, truecase_from="tiny-default")
    client._auto_client = echo = _EchoTextModel()
    path = Synthesizer(tmp_path).speak(SENTENCES[0], "rms")
    prompt = MultimediaObject([MediaObject(content_type="text/plain", text="Question: "),
                               MediaObject(content_type="audio/wav", location=str(path)),
                               MediaObject(content_type="text/plain", text="\nAnswer:")])
    client.make_request(Request(model="m/m", model_deployment="m/m", multimodal_prompt=prompt, max_tokens=5))
    (sent,) = echo.prompts
    if transcript_format == "plain":
        assert sent.startswith("Question: The ") and sent.endswith("\nAnswer:") and "TRANSCRIBED" not in sent
    else:
        assert "[TRANSCRIBED AUDIO START]\nThe " in sent
    with pytest.raises(ValueError, match="transcript_format"):
        SpeechCascadeClient(BlackHoleCacheConfig(), transcript_format="xml")
