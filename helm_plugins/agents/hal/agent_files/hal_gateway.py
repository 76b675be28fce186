"""The agent's only way out of its sandbox: language-model calls and tool calls, answered by the harness.

Copied next to every agent (standard library only). The harness passes two pipe descriptors in HAL_GATEWAY_FDS;
each request is one JSON line, each reply one JSON line. The harness makes the model call through HELM (cache,
retries, token counts, prices) and runs the tools, and it traces both; the agent never holds an API key.

    import hal_gateway
    reply = hal_gateway.complete([{"role": "user", "content": "Hi"}], max_tokens=64)   # {"text", "usage", ...}
    result = hal_gateway.tool("search_flights", origin="SFO", destination="JFK", date="2026-05-14")
    hal_gateway.tools()            # the task's tool specifications
"""

import json
import os
import threading

_lock = threading.Lock()
_channel = None


class GatewayError(RuntimeError):
    pass


def _open():
    global _channel
    if _channel is None:
        fds = os.environ.get("HAL_GATEWAY_FDS")
        if not fds:
            raise GatewayError("no HAL gateway: this agent must run under the HAL harness")
        write_fd, read_fd = (int(x) for x in fds.split(","))
        _channel = (os.fdopen(write_fd, "w", buffering=1), os.fdopen(read_fd, "r"))
    return _channel


def _ask(payload):
    with _lock:
        writer, reader = _open()
        writer.write(json.dumps(payload) + "\n")
        writer.flush()
        line = reader.readline()
    if not line:
        raise GatewayError("the harness closed the gateway")
    reply = json.loads(line)
    if reply.get("error") and payload["kind"] == "lm":
        raise GatewayError(reply["error"])
    return reply


def complete(messages, max_tokens=512, temperature=0.0, stop=None, model=None):
    """One model call on the run's model (or `model`, another HELM deployment the run allows)."""
    return _ask({"kind": "lm", "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                 "stop": stop or [], "model": model})


def tool(name, **arguments):
    """Call a tool of the task's environment; returns {"result": ..., "error": ""}."""
    return _ask({"kind": "tool", "name": name, "arguments": arguments})


def tools():
    return _ask({"kind": "tools"})["tools"]


def record_usage(model, prompt_tokens, completion_tokens, cached_prompt_tokens=0, note=""):
    """Scripted agents: declare the tokens a model call would have used (priced like real usage)."""
    return _ask({"kind": "simulated_lm", "model": model, "prompt_tokens": int(prompt_tokens),
                 "completion_tokens": int(completion_tokens), "cached_prompt_tokens": int(cached_prompt_tokens),
                 "note": note})


def log(message):
    """A free-text step of the agent's reasoning, kept in the trace."""
    return _ask({"kind": "log", "message": str(message)[:4000]})
