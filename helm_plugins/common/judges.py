"""LLM judges for HELM annotators: any HELM model deployment as judge, prompts from jinja2 files, strict verdicts.

A `Judge` sends its requests through HELM's AutoClient (the one HELM injects into annotators), so HELM's cache,
retries and clients apply to the judge exactly as to the evaluated model. It samples n replies with distinct seeds
(HELM's `Request.random`), fits a prompt into the judge's context window by shortening one named variable
(typically the answer under review), and records tokens and cost per reply.

Verdict parsers never guess: a reply without a verdict is `missing`, a reply with a broken or contradictory one
is `garbled`, a failed request is `failed`; callers count these and decide what they mean (UQ: a reject).
"""

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Type

import jinja2
from helm.benchmark.annotation.annotator import Annotator
from helm.common.request import Request
from pydantic import BaseModel, ValidationError

from helm_plugins.common.prices import litellm_cost

OK, MISSING, GARBLED, FAILED = "ok", "missing", "garbled", "failed"


@dataclass(frozen=True)
class Verdict:
    status: str  # ok | missing | garbled | failed
    value: Any = None  # the parsed verdict when status is ok
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


TAG = re.compile(r"\[\[\s*([A-Za-z]+)\s*\]\]")


def parse_tag_verdict(text: str, accept: str = "Y", reject: str = "N") -> Verdict:
    """`[[Y]]` → True, `[[N]]` → False (case-insensitive). No tag → missing; an unknown tag, an unclosed `[[`
    or both verdicts in one reply → garbled."""
    tags = [t.upper() for t in TAG.findall(text)]
    known = {accept.upper(): True, reject.upper(): False}
    values = {known[t] for t in tags if t in known}
    unknown = sorted({t for t in tags if t not in known})
    if len(values) > 1:
        return Verdict(GARBLED, error=f"both [[{accept}]] and [[{reject}]] in the reply")
    if values:
        return Verdict(OK, values.pop())
    if unknown or "[[" in text:
        return Verdict(GARBLED, error=f"no [[{accept}]]/[[{reject}]] tag; found {unknown or 'an unclosed [['}")
    return Verdict(MISSING, error=f"no [[{accept}]]/[[{reject}]] tag")


def parse_json_verdict(text: str, schema: Type[BaseModel]) -> Verdict:
    """The first JSON object of the reply (fences and prose around it are ignored), validated by `schema`."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    if start < 0:
        return Verdict(MISSING, error="no JSON object in the reply")
    while start >= 0:
        try:
            obj, _ = decoder.raw_decode(text, start)
            break
        except json.JSONDecodeError as error:
            last_error = error
            start = text.find("{", start + 1)
    else:
        return Verdict(GARBLED, error=f"invalid JSON: {last_error.msg}")
    try:
        return Verdict(OK, schema.model_validate(obj))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in error.errors())
        return Verdict(GARBLED, error=problems)


class Templates:
    """Jinja2 prompt templates kept as `<name>.jinja` files in one folder; undefined variables are errors."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined, keep_trailing_newline=False
        )

    def render(self, name: str, **variables) -> str:
        try:
            template = self.env.get_template(f"{name}.jinja")
        except jinja2.TemplateNotFound:
            known = sorted(p.stem for p in self.folder.glob("*.jinja"))
            raise ValueError(f"no prompt template {name!r} in {self.folder}; templates: {', '.join(known)}") from None
        return template.render(**variables).strip()


@dataclass
class JudgeReply:
    text: str
    success: bool
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Optional[float] = None
    truncated: bool = False
    prompt: str = ""  # the prompt as sent


@dataclass
class JudgeUsage:
    """Totals over the judge calls of one annotated instance."""

    requests: int = 0
    failed_requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown_requests: int = 0
    truncated_prompts: int = 0

    def add(self, reply: JudgeReply) -> None:
        self.requests += 1
        self.failed_requests += not reply.success
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.truncated_prompts += reply.truncated
        if reply.cost_usd is None:
            self.cost_unknown_requests += 1
        else:
            self.cost_usd += reply.cost_usd

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


LOCAL_CLIENT_MODULES = ("helm.clients.huggingface_client", "helm.clients.simple_client", "helm_plugins.")


@dataclass
class Judge:
    """A HELM model deployment used as a judge (or as any auxiliary model: TestMaker, reviewer, baseline)."""

    auto_client: Any  # helm.clients.auto_client.AutoClient, or any object with make_request(Request)
    deployment: str
    temperature: float = 0.0
    max_tokens: int = 512
    model: str = field(default="", init=False)
    _window: Any = field(default=None, init=False, repr=False)
    _local: bool = field(default=False, init=False, repr=False)

    def __post_init__(self):
        from helm.benchmark.model_deployment_registry import get_model_deployment

        try:
            deployment = get_model_deployment(self.deployment)
        except ValueError as error:
            raise ValueError(f"judge {self.deployment!r}: {error}") from None
        self.model = deployment.model_name or self.deployment
        self._local = deployment.client_spec.class_name.startswith(LOCAL_CLIENT_MODULES)
        if deployment.max_sequence_length:  # a small local judge: leave at least half of its window to the prompt
            self.max_tokens = min(self.max_tokens, deployment.max_sequence_length // 2)
        tokenizer = getattr(self.auto_client, "_auto_tokenizer", None)
        if deployment.tokenizer_name and tokenizer is not None:
            from helm.benchmark.window_services.tokenizer_service import TokenizerService
            from helm.benchmark.window_services.window_service_factory import WindowServiceFactory

            self._window = WindowServiceFactory.get_window_service(self.deployment, TokenizerService(tokenizer))

    def _count(self, text: str) -> int:
        return self._window.get_num_tokens(text) if self._window is not None else (len(text) + 3) // 4

    def fit(self, templates: Templates, template: str, shrink, **variables) -> tuple:
        """Render `template`; while it does not fit the judge's window (with room for the reply), halve a length
        cap on the variable `shrink` (a name, or a tuple of names under one common cap, e.g. two responses that
        are compared: both are cut to the same length). If it still does not fit, keep the prompt's end, where the
        templates ask for the verdict and its format. Returns (prompt, truncated)."""
        names = (shrink,) if isinstance(shrink, str) else tuple(shrink)
        originals = {name: variables[name] for name in names}
        cap = max(len(value) for value in originals.values())
        prompt = templates.render(template, **variables)
        truncated = False
        while self._window is not None and not self._window.fits_within_context_window(prompt, self.max_tokens):
            if cap < 16:
                return self._keep_end(prompt), True
            cap //= 2
            for name, value in originals.items():
                variables[name] = value[:cap] + " […]" if len(value) > cap else value
            prompt, truncated = templates.render(template, **variables), True
        return prompt, truncated

    def _keep_end(self, prompt: str) -> str:
        room = self._window.max_request_length - self.max_tokens
        kept = self._window.decode(self._window.encode(prompt).tokens[-room:])
        while not self._window.fits_within_context_window(kept, self.max_tokens):  # re-tokenization can differ
            kept = kept[1:]
        return kept

    def ask(self, prompt: str, seed: str, truncated: bool = False, usage: Optional[JudgeUsage] = None) -> JudgeReply:
        """One reply; `seed` goes to HELM's Request.random, so distinct seeds are distinct (cached) samples."""
        request = Request(
            model=self.model,
            model_deployment=self.deployment,
            prompt=prompt,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            num_completions=1,
            random=seed,
        )
        result = self.auto_client.make_request(request)
        if not result.success or not result.completions:
            reply = JudgeReply("", False, error=(result.error or "no completion")[:300], truncated=truncated,
                               prompt=prompt)
        else:
            completion = result.completions[0]
            prompt_tokens = self._count(prompt)
            completion_tokens = len(completion.tokens) or self._count(completion.text)
            cost = 0.0 if self._local else litellm_cost(self.model, prompt_tokens, completion_tokens)
            reply = JudgeReply(completion.text, True, "", prompt_tokens, completion_tokens, cost, truncated, prompt)
        if usage is not None:
            usage.add(reply)
        return reply

    def sample(self, prompt: str, n: int, seed: str, usage: Optional[JudgeUsage] = None) -> List[JudgeReply]:
        return [self.ask(prompt, f"{seed}/sample{i}", usage=usage) for i in range(n)]


def record(reply: JudgeReply, verdict: Optional[Verdict] = None) -> Dict[str, Any]:
    """A judge call as kept in `request_state.annotations`: the prompt as sent and the full reply, so that a
    reader of the run (helm-server's instance view) can audit each verdict."""
    entry: Dict[str, Any] = {"prompt": reply.prompt, "reply": reply.text, "success": reply.success}
    if reply.error:
        entry["error"] = reply.error
    if verdict is not None:
        entry["verdict_status"] = verdict.status
        entry["verdict"] = verdict.value.model_dump() if isinstance(verdict.value, BaseModel) else verdict.value
        if verdict.error:
            entry["verdict_error"] = verdict.error
    return entry


class JudgeAnnotator(Annotator):
    """Base of the annotators that ask a judge: builds the `Judge` from HELM's injected AutoClient.

    `judge=""` judges with the evaluated model's own deployment (the generator–validator set-up)."""

    template_folder: Path

    def __init__(self, auto_client, judge: str = "", temperature: float = 0.0, max_tokens: int = 512, seed: int = 0):
        self.auto_client = auto_client
        self.judge_deployment = judge
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.templates = Templates(self.template_folder)
        self._judges: Dict[str, Judge] = {}

    def judge_for(self, request_state) -> Judge:
        deployment = self.judge_deployment or request_state.request.model_deployment
        if deployment not in self._judges:
            self._judges[deployment] = Judge(self.auto_client, deployment, self.temperature, self.max_tokens)
        return self._judges[deployment]


USAGE_STATS = {
    "judge_requests": "requests",
    "judge_failed_requests": "failed_requests",
    "judge_prompt_tokens": "prompt_tokens",
    "judge_completion_tokens": "completion_tokens",
    "judge_cost_usd": "cost_usd",
    "judge_cost_unknown_requests": "cost_unknown_requests",
    "judge_truncated_prompts": "truncated_prompts",
}


def stat(name: str, value: float):
    from helm.benchmark.metrics.metric_name import MetricName
    from helm.benchmark.metrics.statistic import Stat

    return Stat(MetricName(name)).add(value)


def judge_usage_stats(annotation: Dict[str, Any]) -> list:
    """Per-instance HELM stats of a judge annotation's usage and verdict counts (judge_* metrics)."""
    usage, verdicts = annotation["usage"], annotation["verdicts"]
    return [stat(name, usage[key]) for name, key in USAGE_STATS.items()] + [
        stat("judge_malformed_verdicts", verdicts.get(MISSING, 0) + verdicts.get(GARBLED, 0)),
    ]
