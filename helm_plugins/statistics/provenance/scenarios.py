"""The provenance scenarios: the examples of Alice's training transcript, scored by HELM's language-modelling
adapter so that any deployment that returns prompt log-probabilities can be the suspect (query test); and prompts
for the suspect's own texts (the observational reshuffle and n-gram tests)."""

from pathlib import Path
from typing import List

import numpy as np
from helm.benchmark.scenarios.scenario import TEST_SPLIT, Input, Instance, Scenario

from helm_plugins.statistics.provenance.transcript import read_transcript

TINY_DEFAULT_TRANSCRIPT = "tiny-default"


def transcript_path(transcript: str) -> Path:
    """`tiny-default`: the shipped transcript of the embedded model's own training run; else a JSONL path."""
    if transcript == TINY_DEFAULT_TRANSCRIPT:
        from helm_plugins.models.registration import TINY_DEFAULT_DIR

        return TINY_DEFAULT_DIR / "transcript.jsonl"
    return Path(transcript)


class ProvenanceQueryScenario(Scenario):
    """Input: one training example of Alice's run (no references); `extra_data["train_position"]`: when Alice
    trained on it. Examples: all, or a seeded sample of `max_examples`."""

    name = "hp_provenance"
    description = "Examples of a training transcript with their training positions (palimpsestic provenance query test)."
    tags = ["language_modeling", "provenance"]

    def __init__(self, transcript: str, max_examples: int = 0, seed: int = 0):
        super().__init__()
        self.transcript = transcript
        self.max_examples = max_examples
        self.seed = seed

    def get_instances(self, output_path: str) -> List[Instance]:
        examples = read_transcript(transcript_path(self.transcript))
        if 0 < self.max_examples < len(examples):
            keep = np.sort(np.random.default_rng(self.seed).choice(len(examples), self.max_examples, replace=False))
            examples = [examples[i] for i in keep]
        return [
            Instance(
                Input(text=example.text),
                references=[],
                split=TEST_SPLIT,
                id=example.id,
                extra_data={"train_position": example.position},
            )
            for example in examples
        ]


class ProvenanceTextsScenario(Scenario):
    """Input: the first `prompt_words` words of one of `texts` transcript examples drawn at random (seeded, so
    independent of Alice's order); the suspect continues it, and the observational tests read its continuations."""

    name = "hp_provenance_texts"
    description = "Prompts for texts sampled from a suspect model (palimpsestic provenance observational tests)."
    tags = ["generation", "provenance"]

    def __init__(self, transcript: str, texts: int = 100, prompt_words: int = 8, seed: int = 0):
        super().__init__()
        self.transcript = transcript
        self.texts = texts
        self.prompt_words = prompt_words
        self.seed = seed

    def get_instances(self, output_path: str) -> List[Instance]:
        examples = read_transcript(transcript_path(self.transcript))
        chosen = np.random.default_rng(self.seed).choice(len(examples), min(self.texts, len(examples)), replace=False)
        return [
            Instance(Input(text=" ".join(examples[i].text.split()[: self.prompt_words])), references=[],
                     split=TEST_SPLIT, id=f"prompt{k}")
            for k, i in enumerate(chosen)
        ]
