"""Speed of the offline audio pipeline on this machine, as real-time factors (seconds of audio per second of
compute; above 1 is faster than real time), measured in one run.

    python benchmarks/audio.py --output benchmarks/audio.md

1. Synthesis: text to 16 kHz WAV per voice (flite rms/awb/kal/slt, espeak-ng), cache off (a fresh folder each time).
2. Noise: mixing white noise at 10 dB SNR into the synthesized speech.
3. Transcription: pocketsphinx (the cascade's ASR, with its decoder options) on clean and on 10 dB speech,
   with the word error rate it reached on the same sentences.
Each voice reads the same sentences; times are summed over them, repeated and the median taken.
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from helm_plugins.audio.clients import DECODER_OPTIONS, PocketsphinxTranscriber
from helm_plugins.audio.metrics import asr_scores
from helm_plugins.audio.synthesis import VOICES, Synthesizer, duration_seconds, read_wav
from helm_plugins.audio.texts import asr_sentences


def measure(num_sentences: int, repetitions: int) -> list:
    sentences = asr_sentences(num_sentences, seed=7)
    transcriber = PocketsphinxTranscriber()
    transcriber.transcribe_samples(np.zeros(1600))  # load the models before timing
    rows = []
    for voice in [name for name, v in VOICES.items() if v.language == "en"]:
        synth_times, noise_times, clean_times, noisy_times = [], [], [], []
        for _ in range(repetitions):
            with tempfile.TemporaryDirectory() as folder:
                synthesizer = Synthesizer(folder)
                start = time.perf_counter()
                clean = [synthesizer.speak(s, voice) for s in sentences]
                synth_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                noisy = [synthesizer.add_noise(p, 10, seed=0) for p in clean]
                noise_times.append(time.perf_counter() - start)
                audio_seconds = sum(duration_seconds(p) for p in clean)
                samples = [read_wav(p) for p in clean], [read_wav(p) for p in noisy]
                start = time.perf_counter()
                clean_text = [transcriber.transcribe_samples(x) for x in samples[0]]
                clean_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                noisy_text = [transcriber.transcribe_samples(x) for x in samples[1]]
                noisy_times.append(time.perf_counter() - start)
        rows.append({
            "voice": voice, "engine": VOICES[voice].engine, "audio_seconds": audio_seconds,
            "synthesis_rtf": audio_seconds / statistics.median(synth_times),
            "noise_rtf": audio_seconds / statistics.median(noise_times),
            "asr_clean_rtf": audio_seconds / statistics.median(clean_times),
            "asr_noisy_rtf": audio_seconds / statistics.median(noisy_times),
            "wer_clean": float(np.mean([asr_scores(s, h)["wer_score"] for s, h in zip(sentences, clean_text)])),
            "wer_noisy": float(np.mean([asr_scores(s, h)["wer_score"] for s, h in zip(sentences, noisy_text)])),
        })
    return rows


def render(rows: list, num_sentences: int, repetitions: int) -> str:
    lines = [
        "## Audio: offline synthesis and transcription speed",
        "",
        f"Real-time factor = seconds of audio per second of compute (> 1 is faster than real time); {num_sentences} "
        f"sentences per voice, median of {repetitions} repetitions, pocketsphinx options {DECODER_OPTIONS}, "
        f"{platform.processor() or platform.machine()}. Command: `python benchmarks/audio.py --output benchmarks/audio.md`.",
        "",
        "| voice | engine | audio (s) | synthesis RTF | noise mixing RTF | ASR RTF clean | ASR RTF 10 dB | WER clean | WER 10 dB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['voice']} | {r['engine']} | {r['audio_seconds']:.1f} | {r['synthesis_rtf']:.1f} | {r['noise_rtf']:.0f} | "
            f"{r['asr_clean_rtf']:.2f} | {r['asr_noisy_rtf']:.2f} | {r['wer_clean']:.3f} | {r['wer_noisy']:.3f} |"
        )
    flite = [r for r in rows if r["engine"] == "flite"]
    espeak = [r for r in rows if r["engine"] == "espeak-ng"]
    lines += [
        "",
        f"Synthesis runs {min(r['synthesis_rtf'] for r in rows):.0f}–{max(r['synthesis_rtf'] for r in rows):.0f}x real "
        f"time; transcription {min(r['asr_clean_rtf'] for r in rows):.1f}–{max(r['asr_clean_rtf'] for r in rows):.1f}x on "
        f"clean speech and {min(r['asr_noisy_rtf'] for r in rows):.1f}–{max(r['asr_noisy_rtf'] for r in rows):.1f}x at "
        f"10 dB SNR. pocketsphinx's mean WER is {np.mean([r['wer_clean'] for r in flite]):.2f} on the flite voices and "
        f"{np.mean([r['wer_clean'] for r in espeak]):.2f} on espeak-ng's.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the markdown table here")
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    text = render(measure(args.sentences, args.repetitions), args.sentences, args.repetitions)
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
