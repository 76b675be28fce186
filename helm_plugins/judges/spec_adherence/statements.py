"""Specifications as statements (SpecEval, arXiv 2509.02464), one JSON object a line:

    {"id": "no_weapon_instructions", "text": "The assistant must not ...", "type": "prohibition",
     "authority_level": "platform", "section": "Safety", "subsection": "", "related_statements": [],
     "examples": [{"user_query": "...", "good_response": "...", "bad_response": "..."}]}

type is prohibition, requirement, guideline or definition; authority_level is platform, developer, user or
guideline. `load_spec("toy")` reads the packaged 6-statement toy specification (provider helm-plugins, written for
the offline demo); any other value is a path. A bad line is an error naming the file, the line and the field.
"""

import re
from pathlib import Path
from typing import List, Literal, Optional

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


# ----- a provider's specification document (markdown) to statements -----

STATEMENT_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{([^}]*)\})?\s*$")
EXAMPLE_LINE = re.compile(r"^\s*(?:[-*]\s*)?\**(User|Good response|Bad response)\**\s*:\s*\**\s*(.*)$", re.IGNORECASE)
EXAMPLE_FIELDS = {"user": "user_query", "good response": "good_response", "bad response": "bad_response"}


def _attributes(text: str, where: str) -> dict:
    """`#id type=prohibition authority=platform` → {"id", "type", "authority_level"}."""
    attributes = {}
    for token in text.split():
        if token.startswith("#"):
            attributes["id"] = token[1:]
        elif "=" in token:
            key, value = token.split("=", 1)
            key = {"authority": "authority_level"}.get(key, key)
            if key not in ("type", "authority_level"):
                raise ValueError(f"{where}: unknown attribute {key!r} (use #id, type=, authority=)")
            attributes[key] = value
        else:
            raise ValueError(f"{where}: cannot read {token!r} in the heading's {{...}} (use #id, type=, authority=)")
    return attributes


def parse_markdown_spec(text: str, source: str = "<markdown>", default_type: str = "",
                        default_authority: str = "") -> List[Statement]:
    """Statements from a specification document in markdown.

    A statement is a heading that carries attributes, `### Title {#statement_id type=prohibition
    authority=platform}` (the `{#id}` anchor style of published model specifications); its text is the prose up to
    the next heading. Headings without attributes are the section (the first level seen) and subsection (deeper
    levels). Lines `User: ...`, `Good response: ...`, `Bad response: ...` under a statement are its examples (a
    new `User:` starts a new example). type and authority may be defaulted for the whole document. Every problem
    is an error naming the source, the line and the field."""
    statements: List[Statement] = []
    section, subsection, top_level = "", "", None
    current: Optional[dict] = None

    def finish() -> None:
        if current is None:
            return
        where = f"{source}:{current['line']}"
        body = "\n".join(current.pop("body")).strip()
        row = {**current, "text": body or current["title"]}
        row.pop("line"), row.pop("title")
        try:
            statements.append(Statement.model_validate(row))
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'statement'}: {e['msg']}" for e in error.errors())
            raise ValueError(f"{where}: bad statement {row.get('id')!r}: {problems}") from None

    for number, line in enumerate(text.splitlines(), 1):
        heading = STATEMENT_HEADING.match(line)
        if heading:
            level, title, attributes = len(heading.group(1)), heading.group(2).strip(), heading.group(3)
            if attributes is None:
                finish()
                current = None
                if top_level is None or level <= top_level:
                    top_level, section, subsection = level, title, ""
                else:
                    subsection = title
                continue
            finish()
            found = _attributes(attributes, f"{source}:{number}")
            if "id" not in found:
                raise ValueError(f"{source}:{number}: statement heading {title!r} has no #id")
            current = {"id": found["id"], "type": found.get("type", default_type),
                       "authority_level": found.get("authority_level", default_authority), "section": section,
                       "subsection": subsection, "title": title, "examples": [], "body": [], "line": number,
                       "metadata": {"title": title}}
            continue
        if current is None:
            continue
        example = EXAMPLE_LINE.match(line)
        if example:
            field = EXAMPLE_FIELDS[example.group(1).lower()]
            if field == "user_query" or not current["examples"]:
                if field != "user_query":
                    raise ValueError(f"{source}:{number}: {example.group(1)!r} before any 'User:' line of an example")
                current["examples"].append({})
            current["examples"][-1][field] = example.group(2).strip()
            continue
        current["body"].append(line)
    finish()
    if not statements:
        raise ValueError(f"{source}: no statements (mark each with a heading like '### Title {{#id type=... authority=...}}')")
    ids = [s.id for s in statements]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{source}: duplicate statement ids {', '.join(duplicates)}")
    return statements
