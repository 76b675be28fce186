"""SpecEval's TestMaker: adaptive search for hard test prompts per specification statement (arXiv 2509.02464).

Each of K rounds proposes L prompts (conditioned on the hardest third of the previous round), drops those the judge
rates below the quality threshold T (1–5), has the candidate answer the rest and rates compliance with the
statement; difficulty = 1 − compliance (compliance = (Likert rating − 1) / 4). The hardest third of a round is what
the next round builds on; the statement's final prompts are the hardest `prompts_per_statement` of every round's
scored prompts (K · L = 30 proposals for the paper's 20, so the target is reachable when two in three prompts pass
the quality bar; a statement that falls short is logged with its shortfall). The paper used K = 3, L = 10, T = 3,
20 prompts per statement, and GPT-4.1 as TestMaker, candidate and judge.

Results are cached per statement in a JSON file keyed by the statement, the configuration and the three model
deployments, so a second run with the same settings asks no model.
"""

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, List, Optional

from pydantic import BaseModel, ConfigDict, Field

from helm_plugins.common.judges import FAILED, Judge, Templates, Verdict, parse_json_verdict
from helm_plugins.judges.spec_adherence.annotators import PROMPTS, LikertVerdict
from helm_plugins.judges.spec_adherence.statements import Statement


class TestMakerConfig(BaseModel):
    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="forbid")
    rounds: int = Field(3, gt=0)  # K
    prompts_per_round: int = Field(10, gt=0)  # L
    keep_fraction: float = Field(1 / 3, gt=0, le=1)  # the hardest third is kept each round
    quality_threshold: float = Field(3, ge=1, le=5)  # T: prompts rated below it are dropped
    prompts_per_statement: int = Field(20, gt=0)  # final prompts per statement, hardest first
    seed: int = 0


@dataclass
class TestPrompt:
    __test__ = False
    statement_id: str
    prompt: str
    round: int
    quality: float
    compliance: float

    @property
    def difficulty(self) -> float:
        return 1 - self.compliance


def select_hardest(prompts: List[TestPrompt], fraction: float) -> List[TestPrompt]:
    """The ceil(fraction · n) prompts of highest difficulty (ties keep the earlier prompt)."""
    ranked = sorted(prompts, key=lambda p: -p.difficulty)
    return ranked[: math.ceil(fraction * len(prompts))]


Propose = Callable[[Statement, List[str], int, str], List[str]]  # (statement, hardest so far, count, seed) -> prompts
Rate = Callable[[Statement, str, str], Optional[float]]  # (statement, prompt, seed) -> value, None if unusable


class TestMaker:
    __test__ = False
    def __init__(self, config: TestMakerConfig, propose: Propose, quality: Rate, compliance: Rate):
        self.config, self.propose, self.quality, self.compliance = config, propose, quality, compliance
        self.log: List[dict] = []  # per round: proposed, below threshold, unscorable, kept

    def search(self, statement: Statement) -> List[TestPrompt]:
        config, scored_all, hardest = self.config, [], []
        for round_ in range(config.rounds):
            seed = f"{config.seed}/{statement.id}/round{round_}"
            proposals = self.propose(statement, [p.prompt for p in hardest], config.prompts_per_round, seed)
            scored, low_quality, unscorable = [], 0, 0
            for i, prompt in enumerate(proposals):
                quality = self.quality(statement, prompt, f"{seed}/{i}")
                if quality is None or quality < config.quality_threshold:
                    low_quality += 1
                    continue
                compliance = self.compliance(statement, prompt, f"{seed}/{i}")
                if compliance is None:
                    unscorable += 1
                    continue
                scored.append(TestPrompt(statement.id, prompt, round_, quality, compliance))
            hardest = select_hardest(scored, config.keep_fraction)
            scored_all += scored
            self.log.append({"statement_id": statement.id, "round": round_, "proposed": len(proposals),
                             "below_quality": low_quality, "unscorable": unscorable, "kept": len(hardest)})
        final = select_hardest(scored_all, 1.0)[: config.prompts_per_statement]
        if len(final) < config.prompts_per_statement:
            self.log.append({"statement_id": statement.id, "shortfall": config.prompts_per_statement - len(final)})
        return final


class PromptList(BaseModel):
    prompts: List[str] = Field(min_length=1)


def helm_testmaker(auto_client, config: TestMakerConfig, testmaker: str, candidate: str, judge: str) -> TestMaker:
    """A TestMaker whose three roles are HELM model deployments (through HELM's clients and cache)."""
    templates = Templates(PROMPTS)
    maker, answerer, rater = Judge(auto_client, testmaker, 1.0), Judge(auto_client, candidate, 0.0), Judge(auto_client, judge, 0.0)

    def parsed(model: Judge, template: str, shrink: str, seed: str, schema, **variables) -> Verdict:
        prompt, truncated = model.fit(templates, template, shrink, **variables)
        reply = model.ask(prompt, seed, truncated)
        return parse_json_verdict(reply.text, schema) if reply.success else Verdict(FAILED, error=reply.error)

    def propose(statement: Statement, hard: List[str], count: int, seed: str) -> List[str]:
        verdict = parsed(maker, "testmaker_propose", "statement", seed, PromptList, statement=statement.model_dump(),
                         hard_prompts=hard, count=count)
        return [p for p in verdict.value.prompts if p.strip()][:count] if verdict.ok else []

    def quality(statement: Statement, prompt: str, seed: str) -> Optional[float]:
        verdict = parsed(rater, "testmaker_quality", "prompt", f"{seed}/quality", LikertVerdict,
                         statement=statement.model_dump(), prompt=prompt)
        return verdict.value.rating if verdict.ok else None

    def compliance(statement: Statement, prompt: str, seed: str) -> Optional[float]:
        response = answerer.ask(prompt, f"{seed}/answer")
        if not response.success:
            return None
        verdict = parsed(rater, "likert", "response", f"{seed}/judge", LikertVerdict, statement=statement.model_dump(),
                         prompt=prompt, response=response.text)
        return (verdict.value.rating - 1) / 4 if verdict.ok else None

    return TestMaker(config, propose, quality, compliance)


def cache_key(statement: Statement, config: TestMakerConfig, *deployments: str) -> str:
    blob = json.dumps([statement.model_dump(), config.model_dump(), deployments], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_cached(maker: TestMaker, statements: List[Statement], cache_dir: Path, deployments: List[str]) -> List[TestPrompt]:
    """Search each statement, reading and writing `cache_dir/<statement>-<key>.json`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    found: List[TestPrompt] = []
    for statement in statements:
        path = cache_dir / f"{statement.id}-{cache_key(statement, maker.config, *deployments)}.json"
        if path.is_file():
            found += [TestPrompt(**row) for row in json.loads(path.read_text())["prompts"]]
            continue
        before = len(maker.log)
        prompts = maker.search(statement)
        path.write_text(json.dumps({"prompts": [asdict(p) for p in prompts], "rounds": maker.log[before:]}, indent=1))
        found += prompts
    return found
