"""Offline speech synthesis: text to 16 kHz mono 16-bit WAV with Debian's text-to-speech engines, plus noise at a
given signal-to-noise ratio and concatenation of turns, every file cached by a hash of what made it. Beside each
cached file its content hash is stored (`<key>.wav.sha256`); a cached file whose content no longer matches (cut
short, overwritten, a copy gone wrong) or that has no stored hash is made again, never served.

Voices: flite's rms, awb and kal (male) and slt (female), espeak-ng's en-us with two male and two female variants
(robotic, much harder to transcribe), and espeak-ng's German, French, Spanish and Italian voices. sox converts every engine's output to one format, concatenates turns with
silence between them, and resamples. Noise is Gaussian (white) from a seeded generator, scaled so that
10·log10(P_speech / P_noise) equals the requested SNR over the whole utterance; when the mix would clip, speech
and noise are scaled down together, which keeps the ratio.

    synthesizer = Synthesizer("audio_cache")
    clean = synthesizer.speak("the old man walked home", "slt")
    noisy = synthesizer.add_noise(clean, snr_db=10, seed=0)
"""

import hashlib
import shutil
import subprocess
import uuid
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

SAMPLE_RATE = 16_000
PathLike = Union[str, Path]


class AudioError(ValueError):
    """An audio file that cannot be used: missing, empty, corrupt or in an unusable format."""


class SpeechEngineMissing(RuntimeError):
    """A program the synthesis needs is not installed."""


@dataclass(frozen=True)
class Voice:
    name: str
    engine: str  # "flite" or "espeak-ng"
    engine_voice: str  # the engine's own voice name
    group: str  # speaker group used by the fairness and bias scenarios: "male" or "female"
    language: str = "en"


VOICES: Dict[str, Voice] = {
    v.name: v
    for v in [
        Voice("rms", "flite", "rms", "male"),
        Voice("awb", "flite", "awb", "male"),
        Voice("kal", "flite", "kal", "male"),
        Voice("slt", "flite", "slt", "female"),
        Voice("espeak-m", "espeak-ng", "en-us+m3", "male"),
        Voice("espeak-f", "espeak-ng", "en-us+f3", "female"),
        Voice("espeak-m1", "espeak-ng", "en-us+m1", "male"),
        Voice("espeak-f1", "espeak-ng", "en-us+f1", "female"),
        # Other languages (multilinguality): espeak-ng's default voice of each language, male.
        Voice("espeak-de", "espeak-ng", "de", "male", "de"),
        Voice("espeak-fr", "espeak-ng", "fr-fr", "male", "fr"),
        Voice("espeak-es", "espeak-ng", "es", "male", "es"),
        Voice("espeak-it", "espeak-ng", "it", "male", "it"),
    ]
}
INSTALL_HINT = {
    "flite": "apt-get install flite",
    "espeak-ng": "apt-get install espeak-ng",
    "sox": "apt-get install sox",
}


def get_voice(name: str) -> Voice:
    if name not in VOICES:
        raise ValueError(f"unknown voice {name!r}; known voices: {', '.join(VOICES)}")
    return VOICES[name]


def require_program(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        hint = INSTALL_HINT.get(program, f"install {program}")
        raise SpeechEngineMissing(f"{program} is not installed; install it with `{hint}` (or `make demo`, which does)")
    return path


@lru_cache(maxsize=None)
def engine_version(program: str) -> str:
    """The engine's version line: part of every cache key, so a new engine never serves old files."""
    completed = subprocess.run([require_program(program), "--version"], capture_output=True, text=True)
    return (completed.stdout + completed.stderr).strip().splitlines()[-1] if completed.returncode == 0 else program


def _run(args: List[str], what: str) -> None:
    completed = subprocess.run(args, capture_output=True, text=True)
    if completed.returncode != 0:
        raise AudioError(f"{what} failed ({' '.join(args[:2])} exited with {completed.returncode}): {completed.stderr.strip()}")


def read_wav(path: PathLike, expected_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The samples of a mono 16-bit WAV as floats in [-1, 1]; a clear AudioError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file {path} does not exist")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes)")
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width, frames = wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes()
            data = wav.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise AudioError(f"audio file {path} is not a readable WAV file: {error}") from None
    if frames == 0:
        raise AudioError(f"audio file {path} has no samples")
    if rate != expected_rate:
        raise AudioError(f"audio file {path} has sample rate {rate} Hz, expected {expected_rate} Hz (resample it with sox)")
    if channels != 1 or width != 2:
        raise AudioError(f"audio file {path} has {channels} channel(s) of {8 * width}-bit samples, expected mono 16-bit")
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def write_wav(path: PathLike, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())


def duration_seconds(path: PathLike) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def convert_to_wav(source: PathLike, target: PathLike, rate: int = SAMPLE_RATE) -> None:
    """Any audio sox reads (WAV at any rate, MP3 with libsox-fmt-mp3, FLAC) to mono 16-bit WAV at `rate`, without
    sox's automatic (random) dither, so that the same input always gives the same file."""
    source = Path(source)
    if not source.is_file() or source.stat().st_size == 0:
        raise AudioError(f"audio file {source} is missing or empty")
    _run([require_program("sox"), "-D", str(source), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer",
          str(target)], f"converting {source} to {rate} Hz mono WAV")


def measure_snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """SNR of `noisy` against `clean`, allowing for a common gain: noisy = a·clean + noise (least squares a)."""
    gain = float(np.dot(noisy, clean) / np.dot(clean, clean))
    noise = noisy - gain * clean
    return float(10 * np.log10(np.mean((gain * clean) ** 2) / np.mean(noise**2)))


def _hash_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def _content_hash(path: Path) -> Optional[str]:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _stored_hash(path: Path) -> Optional[str]:
    hash_path = _hash_path(path)
    return hash_path.read_text().strip() if hash_path.is_file() else None


class Synthesizer:
    """Makes and caches WAV files under `cache_dir`, each named by the hash of its recipe."""

    def __init__(self, cache_dir: PathLike):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def _target(self, *recipe: object) -> Tuple[Path, bool]:
        """(the cache path of this recipe, whether a verified file is there)."""
        key = hashlib.sha256(repr(recipe).encode()).hexdigest()[:24]
        path = self.cache_dir / f"{key}.wav"
        stored = _stored_hash(path)
        return path, stored is not None and _content_hash(path) == stored

    @staticmethod
    def _scratch(path: Path, kind: str) -> Path:
        return path.with_name(f"{path.stem}.{uuid.uuid4().hex[:8]}.{kind}.wav")

    def _publish(self, tmp: Path, path: Path) -> Path:
        """Move a finished file into the cache, then store its content hash beside it (both atomically)."""
        digest = _content_hash(tmp)
        tmp.replace(path)  # atomic: a concurrent reader sees the whole file or none
        digest_tmp = self._scratch(path, "sha256")
        digest_tmp.write_text(f"{digest}\n")
        digest_tmp.replace(_hash_path(path))
        return path

    def speak(self, text: str, voice: str) -> Path:
        """`text` spoken by `voice`, as 16 kHz mono 16-bit WAV."""
        spec = get_voice(voice)
        if not text.strip():
            raise ValueError("cannot synthesize empty text")
        path, cached = self._target("speak", spec, text, SAMPLE_RATE, engine_version(spec.engine))
        if cached:
            return path
        raw = self._scratch(path, "raw")
        if spec.engine == "flite":
            _run([require_program("flite"), "-voice", spec.engine_voice, "-t", text, "-o", str(raw)], f"flite ({voice})")
        else:
            _run([require_program("espeak-ng"), "-v", spec.engine_voice, "-w", str(raw), text], f"espeak-ng ({voice})")
        tmp = self._scratch(path, "tmp")
        convert_to_wav(raw, tmp)
        raw.unlink()
        return self._publish(tmp, path)

    def add_noise(self, clean: PathLike, snr_db: float, seed: int) -> Path:
        """`clean` mixed with seeded white Gaussian noise at `snr_db` (dB, over the whole file)."""
        clean = Path(clean)
        content = hashlib.sha256(clean.read_bytes()).hexdigest()
        path, cached = self._target("noise", content, float(snr_db), seed)
        if cached:
            return path
        speech = read_wav(clean)
        speech_power = float(np.mean(speech**2))
        if speech_power == 0:
            raise AudioError(f"{clean} is silent: a signal-to-noise ratio is undefined")
        rng = np.random.default_rng([seed, int(content[:12], 16)])
        noise = rng.standard_normal(len(speech))
        noise *= np.sqrt(speech_power / 10 ** (snr_db / 10) / np.mean(noise**2))
        mix = speech + noise
        peak = float(np.max(np.abs(mix)))
        if peak > 0.99:
            mix *= 0.99 / peak
        tmp = self._scratch(path, "tmp")
        write_wav(tmp, mix)
        return self._publish(tmp, path)

    def concatenate(self, parts: Sequence[PathLike], gap_seconds: float = 0.4) -> Path:
        """The parts one after the other with `gap_seconds` of silence between them (sox)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        digests = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in parts]
        path, cached = self._target("concat", digests, gap_seconds)
        if cached:
            return path
        silence, silence_cached = self._target("silence", gap_seconds)
        if not silence_cached:
            tmp = self._scratch(silence, "tmp")
            write_wav(tmp, np.zeros(int(round(gap_seconds * SAMPLE_RATE))))
            self._publish(tmp, silence)
        inputs: List[str] = []
        for i, part in enumerate(parts):
            read_wav(part)  # every part must already be 16 kHz mono 16-bit
            inputs += ([str(silence)] if i else []) + [str(part)]
        tmp = self._scratch(path, "tmp")
        _run([require_program("sox"), "-D", *inputs, str(tmp)], "concatenating turns")
        return self._publish(tmp, path)
