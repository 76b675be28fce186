"""The audio cache serves only files whose content matches the hash stored when they were made: a cached WAV cut
short or garbled after the fact is made again."""

import shutil

import numpy as np
import pytest

from helm_plugins.audio.synthesis import SAMPLE_RATE, Synthesizer, read_wav, write_wav


@pytest.fixture
def clean(tmp_path):
    path = tmp_path / "clean.wav"
    write_wav(path, 0.3 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE // 4) / SAMPLE_RATE))
    return path


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short: still a non-empty file with a WAV header
        lambda data: data[:44] + bytes(len(data) - 44),  # samples zeroed: a valid WAV of silence
        lambda data: data[:100] + b"\xff" * 50 + data[150:],  # a garbled stretch
    ],
    ids=["truncated", "zeroed", "garbled"],
)
def test_a_corrupt_cached_file_is_made_again(tmp_path, clean, damage):
    synthesizer = Synthesizer(tmp_path / "cache")
    noisy = synthesizer.add_noise(clean, snr_db=10, seed=0)
    good = noisy.read_bytes()
    noisy.write_bytes(damage(good))
    again = synthesizer.add_noise(clean, snr_db=10, seed=0)
    assert again == noisy and again.read_bytes() == good
    assert len(read_wav(again)) == len(read_wav(clean))


def test_a_cached_file_without_its_stored_hash_is_made_again(tmp_path, clean):
    synthesizer = Synthesizer(tmp_path / "cache")
    noisy = synthesizer.add_noise(clean, snr_db=5, seed=1)
    good = noisy.read_bytes()
    noisy.with_name(noisy.name + ".sha256").unlink()
    noisy.write_bytes(good[:-2])
    assert synthesizer.add_noise(clean, snr_db=5, seed=1).read_bytes() == good


def test_an_intact_cached_file_is_reused(tmp_path, clean):
    synthesizer = Synthesizer(tmp_path / "cache")
    first = synthesizer.add_noise(clean, snr_db=5, seed=1)
    stamp = first.stat().st_mtime_ns
    assert synthesizer.add_noise(clean, snr_db=5, seed=1) == first and first.stat().st_mtime_ns == stamp


@pytest.mark.skipif(shutil.which("flite") is None or shutil.which("sox") is None, reason="needs flite and sox")
def test_a_corrupt_cached_utterance_is_spoken_again(tmp_path):
    synthesizer = Synthesizer(tmp_path / "cache")
    spoken = synthesizer.speak("the cat sat on the mat", "slt")
    good = spoken.read_bytes()
    spoken.write_bytes(good[: len(good) // 3])
    assert synthesizer.speak("the cat sat on the mat", "slt").read_bytes() == good
