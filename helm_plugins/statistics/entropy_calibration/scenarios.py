"""Documents cut into a prompt and a human continuation, for entropy calibration through helm-run.

`part=generation`: the input is the prompt; the model samples its own continuation (generation entropy H_t).
`part=loss`: the input is prompt + human continuation, scored by the language-modelling adapter (log loss L_t
on the continuation's tokens). Both parts cut the same documents the same way, so their runs pair up.

Documents: held-out synthetic documents (`source=synthetic`, the embedded model's domain) or a JSONL file with
`{"id", "text"}` rows (e.g. WikiText-103 articles of at least 200 characters, as in the paper).
"""

import re
from pathlib import Path
from typing import List, Tuple

from helm.benchmark.scenarios.scenario import CORRECT_TAG, TEST_SPLIT, Input, Instance, Output, Reference, Scenario

from helm_plugins.common.jsonl import read_jsonl_rows

SYNTHETIC = "synthetic"
SYNTHETIC_MIXTURE = {"stories": 0.5, "biography": 0.5}


def split_document(text: str, prompt_words: int, continuation_words: int) -> Tuple[str, str]:
    """(prompt, continuation): the first `prompt_words` words and the next `continuation_words` (the continuation
    keeps its leading whitespace, so prompt + continuation is a prefix of the text); ('', '') when too short."""
    words = list(re.finditer(r"\S+", text))
    if len(words) < prompt_words + continuation_words:
        return "", ""
    cut = words[prompt_words - 1].end()
    return text[:cut], text[cut : words[prompt_words + continuation_words - 1].end()]


def read_documents(path: Path) -> List[Tuple[str, str]]:
    """(id, text) rows of a JSONL file; errors name the file and line."""
    rows, seen = [], set()
    for line_number, row in read_jsonl_rows(path):
        if not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{line_number}: need a string field 'text'")
        document_id = str(row.get("id", line_number))
        if document_id in seen:
            raise ValueError(f"{path}:{line_number}: duplicate id {document_id!r}")
        seen.add(document_id)
        rows.append((document_id, row["text"]))
    return rows


class EntropyCalibrationScenario(Scenario):
    name = "hp_entropy_calibration"
    description = "Documents cut into a prompt and a human continuation: the model's generation entropy per step against its log loss per step on the continuation."
    tags = ["language_modeling", "calibration"]

    def __init__(self, part: str, source: str = SYNTHETIC, documents: int = 200, prompt_words: int = 12,
                 continuation_words: int = 48, seed: int = 0):
        super().__init__()
        if part not in ("generation", "loss"):
            raise ValueError(f"part must be 'generation' or 'loss', got {part!r}")
        self.part = part
        self.source = source
        self.documents = documents
        self.prompt_words = prompt_words
        self.continuation_words = continuation_words
        self.seed = seed

    def _documents(self) -> List[Tuple[str, str]]:
        if self.source == SYNTHETIC:
            from helm_plugins.synthetic.corpus import generate_documents

            texts = generate_documents(SYNTHETIC_MIXTURE, self.documents * 2, self.seed, stream="validation")
            return [(f"doc{i}", text) for i, text in enumerate(texts)]
        return read_documents(Path(self.source))

    def get_instances(self, output_path: str) -> List[Instance]:
        instances = []
        for document_id, text in self._documents():
            prompt, continuation = split_document(text, self.prompt_words, self.continuation_words)
            if not prompt:
                continue
            if self.part == "generation":
                instance = Instance(Input(text=prompt), [Reference(Output(text=continuation), tags=[CORRECT_TAG])],
                                    split=TEST_SPLIT, id=document_id)
            else:
                instance = Instance(Input(text=prompt + continuation), [], split=TEST_SPLIT, id=document_id,
                                    extra_data={"continuation": continuation})
            instances.append(instance)
            if len(instances) == self.documents:
                break
        if not instances:
            raise ValueError(
                f"source {self.source!r}: no document has {self.prompt_words + self.continuation_words} words "
                "(prompt_words + continuation words)"
            )
        return instances
