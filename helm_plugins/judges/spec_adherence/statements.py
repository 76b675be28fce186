"""Specifications as statements (SpecEval, arXiv 2509.02464), one JSON object a line:

    {"id": "no_weapon_instructions", "text": "The assistant must not ...", "type": "prohibition",
     "authority_level": "platform", "section": "Safety", "subsection": "", "related_statements": [],
     "examples": [{"user_query": "...", "good_response": "...", "bad_response": "..."}]}

type is prohibition, requirement, guideline or definition; authority_level is platform, developer, user or
guideline. `load_spec("toy")` reads the packaged 6-statement toy specification (provider helm-plugins, written for
the offline demo); any other value is a path. A bad line is an error naming the file, the line and the field.
"""

from pathlib import Path
from typing import List, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helm_plugins.common.jsonl import read_jsonl_rows

SPECS = Path(__file__).parent / "specs"
BUILTIN_PROVIDERS = {"toy": "helm-plugins"}


class Example(BaseModel):
    model_config = ConfigDict(extra="allow")
    user_query: str
    good_response: str = ""
    bad_response: str = ""


class Statement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    type: Literal["prohibition", "requirement", "guideline", "definition"]
    authority_level: Literal["platform", "developer", "user", "guideline"]
    section: str
    subsection: str = ""
    related_statements: List[str] = []
    examples: List[Example] = []
    metadata: dict = {}


def spec_path(spec: str) -> Path:
    return SPECS / f"{spec}.jsonl" if spec in BUILTIN_PROVIDERS else Path(spec)


def load_spec(spec: str) -> List[Statement]:
    path = spec_path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"specification {spec!r}: no file {path} (built-in: {', '.join(BUILTIN_PROVIDERS)})")
    statements: List[Statement] = []
    for number, row in read_jsonl_rows(path):
        try:
            statements.append(Statement.model_validate(row))
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in error.errors())
            raise ValueError(f"{path}:{number}: bad statement: {problems}") from None
    ids = [s.id for s in statements]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate statement ids {', '.join(duplicates)}")
    if not statements:
        raise ValueError(f"{path}: no statements")
    return statements
