"""A local OpenAI-compatible /chat/completions server for the audio tests: it checks every `input_audio` part is
valid base64 WAV (400 otherwise) and answers with its rate and length, or with pocketsphinx's transcript of it."""

import base64
import io
import json
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from helm_plugins.audio.clients import PocketsphinxTranscriber


class FakeAudioServer(BaseHTTPRequestHandler):
    """OpenAI-compatible /chat/completions that checks each input_audio part is valid base64 WAV."""

    received = []
    reject_audio = False
    transcribe = False  # answer with pocketsphinx's transcript of the received audio

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeAudioServer.received.append(body)
        if FakeAudioServer.reject_audio:
            return self._reply(400, {"error": {"message": "This model does not support audio input.",
                                               "type": "invalid_request_error"}})
        described = []
        for part in body["messages"][0]["content"]:
            if part["type"] == "input_audio":
                if part["input_audio"]["format"] != "wav":
                    return self._reply(400, {"error": {"message": "expected wav", "type": "invalid_request_error"}})
                try:
                    audio = base64.b64decode(part["input_audio"]["data"], validate=True)
                    with wave.open(io.BytesIO(audio)) as wav:
                        rate, frames = wav.getframerate(), wav.getnframes()
                        samples = np.frombuffer(wav.readframes(frames), dtype="<i2") / 32768.0
                except (ValueError, wave.Error, EOFError) as error:
                    return self._reply(400, {"error": {"message": f"invalid audio: {error}", "type": "invalid_request_error"}})
                if FakeAudioServer.transcribe:
                    described.append(PocketsphinxTranscriber().transcribe_samples(samples))
                else:
                    described.append(f"{rate} Hz, {frames} frames")
        self._reply(200, {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "; ".join(described)}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    FakeAudioServer.received, FakeAudioServer.reject_audio, FakeAudioServer.transcribe = [], False, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAudioServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
