import wave

import numpy as np
import pytest

from helm_plugins.audio import synthesis
from helm_plugins.audio.synthesis import (
    SAMPLE_RATE,
    AudioError,
    SpeechEngineMissing,
    Synthesizer,
    measure_snr_db,
    read_wav,
    write_wav,
)

SENTENCE = "the old man carried a heavy box to the station"


@pytest.mark.parametrize("voice", ["slt", "kal", "espeak-m"])  # 16 kHz as is, 8 and 22.05 kHz resampled
def test_speech_is_deterministic(tmp_path, voice):
    first = Synthesizer(tmp_path / "a").speak(SENTENCE, voice)
    assert first.read_bytes() == Synthesizer(tmp_path / "b").speak(SENTENCE, voice).read_bytes()


def test_speech_is_16khz_mono(tmp_path):
    first = Synthesizer(tmp_path / "a").speak(SENTENCE, "slt")
    with wave.open(str(first)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        assert 1.5 < wav.getnframes() / SAMPLE_RATE < 6
    # kal is an 8 kHz voice and espeak-ng writes 22.05 kHz: both come out resampled to 16 kHz
    for voice in ("kal", "espeak-f"):
        assert len(read_wav(Synthesizer(tmp_path / "a").speak(SENTENCE, voice))) > SAMPLE_RATE


def test_cache_returns_the_same_file_and_voices_differ(tmp_path):
    synthesizer = Synthesizer(tmp_path)
    path = synthesizer.speak(SENTENCE, "rms")
    mtime = path.stat().st_mtime_ns
    assert synthesizer.speak(SENTENCE, "rms") == path and path.stat().st_mtime_ns == mtime
    assert synthesizer.speak(SENTENCE, "awb").read_bytes() != path.read_bytes()


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_noise_is_mixed_at_the_requested_snr(tmp_path, snr_db):
    synthesizer = Synthesizer(tmp_path)
    clean = synthesizer.speak(SENTENCE, "rms")
    noisy = synthesizer.add_noise(clean, snr_db, seed=3)
    assert measure_snr_db(read_wav(clean), read_wav(noisy)) == pytest.approx(snr_db, abs=0.2)


def test_noise_is_deterministic_for_a_seed(tmp_path):
    synthesizer = Synthesizer(tmp_path / "a")
    clean = synthesizer.speak(SENTENCE, "rms")
    same = Synthesizer(tmp_path / "b").add_noise(clean, 10, seed=1)
    assert synthesizer.add_noise(clean, 10, seed=1).read_bytes() == same.read_bytes()
    assert synthesizer.add_noise(clean, 10, seed=2).read_bytes() != same.read_bytes()


def test_concatenation_adds_the_gaps(tmp_path):
    synthesizer = Synthesizer(tmp_path)
    parts = [synthesizer.speak("hello there", "rms"), synthesizer.speak("good morning", "slt")]
    joined = synthesizer.concatenate(parts, gap_seconds=0.5)
    expected = sum(len(read_wav(p)) for p in parts) + 0.5 * SAMPLE_RATE
    assert len(read_wav(joined)) == pytest.approx(expected, abs=2)


def test_bad_audio_is_rejected_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        read_wav(empty)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"this is not a wav file at all")
    with pytest.raises(AudioError, match="not a readable WAV"):
        read_wav(corrupt)
    slow = tmp_path / "slow.wav"
    write_wav(slow, np.zeros(800), rate=8000)
    with pytest.raises(AudioError, match="sample rate 8000 Hz, expected 16000"):
        read_wav(slow)
    with pytest.raises(AudioError, match="does not exist"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="unknown voice 'bob'; known voices: rms"):
        Synthesizer(tmp_path).speak("hello", "bob")


def test_silence_has_no_snr(tmp_path):
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(SAMPLE_RATE))
    with pytest.raises(AudioError, match="silent"):
        Synthesizer(tmp_path).add_noise(silent, 10, seed=0)


def test_a_missing_engine_names_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(synthesis.shutil, "which", lambda program: None)
    synthesis.engine_version.cache_clear()
    try:
        with pytest.raises(SpeechEngineMissing, match=r"flite is not installed; install it with `apt-get install flite`"):
            Synthesizer(tmp_path).speak("hello", "slt")
    finally:
        synthesis.engine_version.cache_clear()
