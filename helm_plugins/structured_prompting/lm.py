"""A DSPy language model whose every call is a HELM request to one model deployment.

`HELMLM` turns each call of a DSPy program (evaluation, bootstrapping, instruction proposal) into a
`helm.common.request.Request` sent through HELM's request context (`AutoClient`: the deployment's client,
HELM's request cache, HELM's retries). The run's max_tokens, temperature, stop sequences and num_outputs are the
defaults of every call; a DSPy module may override them per call (e.g. an optimizer's temperature for diverse
bootstraps), and what was sent is what HELM caches and records.

DSPy's own disk cache is not used: a repeated call is answered by HELM's cache and counted as cached.
"""

import dataclasses
import threading
import time
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Dict, List, Optional

import dspy
from helm.common.request import Request, RequestResult

warnings.filterwarnings("ignore", message="Implementing custom LMs through BaseLM.forward")  # supported up to dspy 3.4 (pinned)


class LMRequestFailed(RuntimeError):
    """HELM's client gave up on a request after its retries."""


@dataclass
class CallRecord:
    """One HELM request made on behalf of a DSPy program."""

    prompt_tokens: Optional[int]
    completion_tokens: Optional[int]
    cached: bool
    request_time: float
    success: bool
    messages: Optional[List[Dict[str, str]]] = None  # what was sent (kept when the log keeps messages)
    replies: Optional[List[str]] = None  # the completions' texts (idem)


@dataclass
class CallLog:
    """Thread-safe list of the HELM requests of one program run (one instance, or one optimisation)."""

    records: List[CallRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_add: Optional[Callable[[CallRecord], None]] = None  # e.g. a progress bar
    last_error: str = ""  # the error of the latest failed call
    keep_messages: bool = False  # keep each call's messages and replies (per-instance logs, for auditing a score)

    def add(self, record: CallRecord, error: str = "") -> None:
        with self.lock:
            self.records.append(record)
            if error:
                self.last_error = error
        if self.on_add is not None:
            self.on_add(record)

    @property
    def calls(self) -> int:
        return len(self.records)

    @property
    def failed_calls(self) -> int:
        return sum(not r.success for r in self.records)

    @property
    def new_calls(self) -> int:
        return sum(not r.cached for r in self.records)

    def tokens(self, kind: str, new_only: bool = False) -> Optional[int]:
        values = [getattr(r, f"{kind}_tokens") for r in self.records if not (new_only and r.cached)]
        return None if any(v is None for v in values) else sum(values)


def flatten_messages(messages: List[Dict[str, str]]) -> str:
    """One text prompt from chat messages, for base models whose client takes no messages."""
    parts = []
    for message in messages:
        role = message["role"]
        content = message["content"] if isinstance(message["content"], str) else str(message["content"])
        parts.append(content if role == "user" else f"{role.capitalize()}: {content}")
    return "\n\n".join(parts) + "\n\n"


class HELMLM(dspy.BaseLM):
    """DSPy LM backed by HELM: `make_request` is HELM's request function (e.g. `Executor.context.make_request`)."""

    def __init__(
        self,
        make_request: Callable[[Request], RequestResult],
        model_deployment: str,
        model: str,
        max_tokens: int,
        temperature: float,
        stop_sequences: Optional[List[str]] = None,
        num_outputs: int = 1,
        chat: bool = True,
        count_tokens: Optional[Callable[[str], Optional[int]]] = None,
        context_window: Optional[int] = None,
        call_log: Optional[CallLog] = None,
    ):
        super().__init__(model=model, model_type="chat", temperature=temperature, max_tokens=max_tokens, cache=False)
        self.kwargs["n"] = num_outputs
        self.kwargs["stop"] = list(stop_sequences or [])
        self.make_request = make_request
        self.model_deployment = model_deployment
        self.chat = chat
        self.count_tokens = count_tokens or (lambda text: None)
        self.context_window = context_window
        self.call_log = call_log if call_log is not None else CallLog()

    def with_log(self, call_log: CallLog) -> "HELMLM":
        lm = self.copy()
        lm.call_log = call_log
        return lm

    def build_request(self, prompt: Optional[str], messages: Optional[List[Dict[str, str]]], **kwargs) -> Request:
        settings = {**self.kwargs, **kwargs}
        if messages is None:
            messages = [{"role": "user", "content": prompt or ""}]
        stop = settings.get("stop") or []
        common = dict(
            model_deployment=self.model_deployment,
            model=self.model,
            temperature=float(settings.get("temperature") if settings.get("temperature") is not None else 0.0),
            max_tokens=int(settings.get("max_tokens") or settings.get("max_completion_tokens") or 100),
            num_completions=int(settings.get("n") or settings.get("num_generations") or 1),
            stop_sequences=[stop] if isinstance(stop, str) else list(stop),
            # DSPy's rollout_id asks for a fresh sample; HELM keys its cache on `random` for the same purpose.
            random=None if settings.get("rollout_id") is None else str(settings["rollout_id"]),
        )
        if self.chat:
            return Request(messages=[{"role": m["role"], "content": m["content"]} for m in messages], **common)
        return Request(prompt=flatten_messages(messages), **common)

    def forward(self, prompt=None, messages=None, **kwargs):
        request = self.build_request(prompt, messages, **kwargs)
        prompt_text = request.prompt or "\n".join(m["content"] for m in request.messages or [])
        prompt_tokens = self.count_tokens(prompt_text)
        if self.context_window and prompt_tokens is not None:
            room = self.context_window - prompt_tokens
            if room < 1:  # never sent: the model cannot read it (HELM would retry a client error for minutes)
                error = (f"{self.model_deployment}: the DSPy prompt has {prompt_tokens} tokens, more than the context "
                         f"window of {self.context_window}")
                self.call_log.add(CallRecord(0, 0, False, 0.0, False), error)  # nothing sent, nothing spent
                raise LMRequestFailed(error)
            request = dataclasses.replace(request, max_tokens=min(request.max_tokens, room))
        sent = None
        if self.call_log.keep_messages:
            sent = list(request.messages) if request.messages else [{"role": "user", "content": request.prompt}]
        start = time.time()
        result = self.make_request(request)
        if not result.success:
            error = f"{self.model_deployment}: {result.error}"
            self.call_log.add(CallRecord(prompt_tokens, 0, False, time.time() - start, False, sent, None), error)
            raise LMRequestFailed(error)
        completion_tokens = 0
        for completion in result.completions:
            count = len(completion.tokens) if completion.tokens else self.count_tokens(completion.text)
            completion_tokens = None if (count is None or completion_tokens is None) else completion_tokens + count
        self.call_log.add(CallRecord(
            prompt_tokens, completion_tokens, bool(result.cached), result.request_time or 0.0, True, sent,
            [c.text for c in result.completions] if sent is not None else None,
        ))
        choices = []
        for completion in result.completions:
            message = SimpleNamespace(content=completion.text, tool_calls=None)
            if completion.thinking is not None and completion.thinking.text:
                message.reasoning_content = completion.thinking.text
            choices.append(SimpleNamespace(message=message, finish_reason="stop", logprobs=None))
        usage = {"prompt_tokens": prompt_tokens or 0, "completion_tokens": completion_tokens or 0}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return SimpleNamespace(choices=choices, usage=usage, model=self.model, cache_hit=bool(result.cached))
