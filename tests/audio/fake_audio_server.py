"""A local OpenAI-compatible /chat/completions server for the audio tests: it checks every `input_audio` part is
valid base64 WAV (400 otherwise) and answers with its rate and length, or with pocketsphinx's transcript of it."""

import base64
import io
import wave

import numpy as np
import pytest

from helm_plugins.audio.clients import PocketsphinxTranscriber
from tests.fake_openai import FakeOpenAIServer, Refusal


class FakeAudioServer(FakeOpenAIServer):
    """The switches and the received bodies are class attributes, reset by the `fake_server` fixture."""

    received = []
    reject_audio = False
    transcribe = False  # answer with pocketsphinx's transcript of the received audio

    def replies(self, body: dict):
        FakeAudioServer.received.append(body)
        if FakeAudioServer.reject_audio:
            raise Refusal(400, "This model does not support audio input.")
        described = []
        for part in body["messages"][0]["content"]:
            if part["type"] == "input_audio":
                if part["input_audio"]["format"] != "wav":
                    raise Refusal(400, "expected wav")
                try:
                    audio = base64.b64decode(part["input_audio"]["data"], validate=True)
                    with wave.open(io.BytesIO(audio)) as wav:
                        rate, frames = wav.getframerate(), wav.getnframes()
                        samples = np.frombuffer(wav.readframes(frames), dtype="<i2") / 32768.0
                except (ValueError, wave.Error, EOFError) as error:
                    raise Refusal(400, f"invalid audio: {error}") from None
                if FakeAudioServer.transcribe:
                    described.append(PocketsphinxTranscriber().transcribe_samples(samples))
                else:
                    described.append(f"{rate} Hz, {frames} frames")
        return ["; ".join(described)]


@pytest.fixture
def fake_server():
    FakeAudioServer.received, FakeAudioServer.reject_audio, FakeAudioServer.transcribe = [], False, False
    with FakeAudioServer() as server:
        yield server.base_url
