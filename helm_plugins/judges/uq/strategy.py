"""UQ validator strategies: a composable grammar and its evaluation (arXiv 2508.17580, UQ-Validators).

    strategy  := combiner "[" strategy ("," | ";" strategy)* "]" | validator
    combiner  := pipeline | majority | unanimous
    validator := NAME ["*" n] ["~" k] ["|" majority | unanimous]

NAME is a low-level validator (cycle, factlogic, correct, relevance, final_answer, vanilla; short forms cc, flc, c,
rel, fa, v). `*n` samples the judge n times with distinct seeds (repeated sampling), `~k` adds k rounds of iterated
reflection to each sample, `|majority` accepts when more than n//2 samples accept and `|unanimous` (the default,
written U or M for short) when all do. A `pipeline` stops at its first rejecting stage; `majority` and `unanimous`
combine all of their stages. The paper's default 3-iter pipeline:

    pipeline[cycle*3|unanimous, factlogic*3|unanimous, correct*3|unanimous]

HELM splits run-entry arguments at commas, so in a run entry separate the stages with ";" (`compact` writes that
form): `hp_uq:strategy=pipeline[cc*3|U;flc*3|U;c*3|U]`. A missing or malformed verdict counts as a reject (the design goal is precision).
"""

from dataclasses import dataclass, field
from typing import Callable, List, Tuple, Union

import pyparsing as pp

VALIDATORS = ("cycle", "factlogic", "correct", "relevance", "final_answer", "vanilla")
ALIASES = {"cc": "cycle", "flc": "factlogic", "c": "correct", "rel": "relevance", "fa": "final_answer", "v": "vanilla"}
AGGREGATIONS = {"majority": "majority", "m": "majority", "unanimous": "unanimous", "u": "unanimous"}
COMBINERS = ("pipeline", "majority", "unanimous")
DEFAULT_STRATEGY = "pipeline[cycle*3|unanimous, factlogic*3|unanimous, correct*3|unanimous]"


@dataclass(frozen=True)
class Validator:
    name: str
    samples: int = 1
    reflections: int = 0
    aggregation: str = "unanimous"

    def __str__(self) -> str:
        reflect = f"~{self.reflections}" if self.reflections else ""
        return f"{self.name}*{self.samples}{reflect}|{self.aggregation}"


@dataclass(frozen=True)
class Combination:
    combiner: str
    stages: Tuple["Strategy", ...]

    def __str__(self) -> str:
        return f"{self.combiner}[{', '.join(map(str, self.stages))}]"


def compact(strategy: "Strategy") -> str:
    """The strategy with ";" between stages and no spaces: usable inside a HELM run entry and a run name."""
    return str(strategy).replace(", ", ";")


Strategy = Union[Validator, Combination]


class StrategyError(ValueError):
    pass


def _grammar() -> pp.ParserElement:
    integer = pp.Word(pp.nums).set_parse_action(lambda t: int(t[0])).set_name("a whole number")
    name = pp.Word(pp.alphas + "_").set_name("a validator name")
    aggregation = pp.one_of(list(AGGREGATIONS), caseless=True).set_name("majority or unanimous")
    validator = (
        name("name")
        + pp.Opt(pp.Suppress("*") - integer("samples"))
        + pp.Opt(pp.Suppress("~") - integer("reflections"))
        + pp.Opt(pp.Suppress("|") - aggregation("aggregation"))
    ).set_name("validator")
    strategy = pp.Forward().set_name("strategy")
    combiner = pp.one_of(list(COMBINERS)).set_name("pipeline, majority or unanimous")
    combination = pp.Group(
        combiner("combiner") + pp.Suppress("[") - pp.Group(pp.DelimitedList(strategy, delim=pp.one_of(", ;")))("stages") + pp.Suppress("]")
    )
    strategy <<= (combination | pp.Group(validator)).set_name("a validator or a combiner")
    return strategy


GRAMMAR = _grammar()


def _build(tokens: pp.ParseResults, text: str) -> Strategy:
    if "combiner" in tokens:
        return Combination(tokens["combiner"], tuple(_build(t, text) for t in tokens["stages"]))
    raw = tokens["name"]
    name = ALIASES.get(raw.lower(), raw.lower())
    if name not in VALIDATORS:
        raise StrategyError(f"strategy {text!r}: unknown validator {raw!r}; validators: {', '.join(VALIDATORS)} "
                            f"(short: {', '.join(f'{k}={v}' for k, v in ALIASES.items())})")
    samples = tokens.get("samples", 1)
    if samples < 1:
        raise StrategyError(f"strategy {text!r}: {raw}*{samples} needs at least one sample")
    return Validator(name, samples, tokens.get("reflections", 0), AGGREGATIONS[tokens.get("aggregation", "unanimous").lower()])


def parse_strategy(text: str) -> Strategy:
    """Parse a strategy string; a syntax error says at which column and what was expected there."""
    try:
        (tokens,) = GRAMMAR.parse_string(text, parse_all=True)
    except pp.ParseBaseException as error:
        raise StrategyError(
            f"strategy does not parse at column {error.column}: expected {error.msg.replace('Expected ', '')}\n"
            f"  {text}\n  {' ' * (error.column - 1)}^"
        ) from None
    return _build(tokens, text)


def stages(strategy: Strategy) -> List[Strategy]:
    """The top-level stages reported as per-stage pass rates: a combination's stages, or the validator itself."""
    return list(strategy.stages) if isinstance(strategy, Combination) else [strategy]


# ----- evaluation -----


@dataclass
class Outcome:
    accepted: bool
    stage_results: List[bool] = field(default_factory=list)  # per top-level stage: evaluated and accepted
    stages_evaluated: int = 0


SampleFn = Callable[[Validator, int], bool]  # (validator, sample index) -> accepted (False for missing/malformed)


def _accepts(strategy: Strategy, sample: SampleFn) -> bool:
    if isinstance(strategy, Validator):
        votes = [sample(strategy, i) for i in range(strategy.samples)]
        return sum(votes) > strategy.samples // 2 if strategy.aggregation == "majority" else all(votes)
    if strategy.combiner == "pipeline":
        return all(_accepts(stage, sample) for stage in strategy.stages)  # all() stops at the first reject
    results = [_accepts(stage, sample) for stage in strategy.stages]
    return sum(results) > len(results) // 2 if strategy.combiner == "majority" else all(results)


def evaluate(strategy: Strategy, sample: SampleFn) -> Outcome:
    """Run a strategy; `sample` asks the judge once. Per-stage results are those of the top-level stages (a
    stage a pipeline did not reach counts as not passed)."""
    top = stages(strategy)
    results: List[bool] = []
    for stage in top:
        results.append(_accepts(stage, sample))
        if isinstance(strategy, Combination) and strategy.combiner == "pipeline" and not results[-1]:
            break
    evaluated = len(results)
    results += [False] * (len(top) - evaluated)
    if isinstance(strategy, Validator):
        accepted = results[0]
    elif strategy.combiner == "majority":
        accepted = sum(results) > len(results) // 2
    else:  # pipeline and unanimous: every stage accepts
        accepted = all(results)
    return Outcome(accepted, results, evaluated)
