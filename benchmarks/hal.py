"""HAL harness throughput on this machine, measured in one run.

    python benchmarks/hal.py --output benchmarks/hal.md

1. Concurrency: the ReAct agent on file-QA tasks, three steps each, whose every model call waits 200 ms on a local
   HTTP endpoint (I/O-bound agents), with 8 concurrent tasks against 1: tasks per minute and their ratio.
2. Sandbox start-up: `python -c pass` in the bubblewrap sandbox against the same command unsandboxed (medians).
3. Ray against local: the same I/O-bound tasks with 4 concurrent tasks on a local Ray cluster and on the local
   backend (skipped when Ray is not installed).
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helm_plugins.agents.hal.benchmarks import make_tasks
from helm_plugins.agents.hal.harness import AgentSpec, HarnessConfig, LocalBackend, Models, run_tasks
from helm_plugins.common.sandbox import Sandbox, SandboxLimits

LATENCY_S = 0.2
STEPS = 3  # model calls per task: two tool steps, then the final answer


class SlowEndpoint:
    """A local HTTP endpoint answering every chat completion after LATENCY_S (an API model's wait)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(LATENCY_S)
                steps = sum(m["role"] == "assistant" for m in body["messages"])
                reply = "Thought: done.\nFinal Answer: JFK" if steps >= STEPS - 1 else \
                    'Thought: look.\nAction: list_files\nAction Input: {}'
                data = json.dumps({"choices": [{"message": {"content": reply}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/chat/completions"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class EndpointModels(Models):
    def __init__(self, url: str):
        self.url = url

    def complete(self, payload):
        body = json.dumps({"model": "slow", "messages": payload["messages"]}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        text = json.loads(urllib.request.urlopen(request, timeout=30).read())["choices"][0]["message"]["content"]
        return {"text": text, "model": "fake/slow", "prompt_tokens": 1, "completion_tokens": 1}


def throughput(tasks, workers: int, models: Models, backend=None) -> float:
    config = HarnessConfig("fileqa", AgentSpec.parse("react"), {"max_steps": 3}, SandboxLimits(timeout_s=120),
                           max_concurrent=workers)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        results = run_tasks(tasks, config, Path(folder), models, backend=backend or LocalBackend(workers), resume=False)
        elapsed = time.perf_counter() - start
    assert all(r.error_kind == "" for r in results.results.values()), [r.reason for r in results.results.values()]
    return 60 * len(tasks) / elapsed


def sandbox_overhead(repetitions: int) -> tuple:
    bare, boxed = [], []
    sandbox = Sandbox("bwrap")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repetitions):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-S", "-c", "pass"], check=True)
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert sandbox.run([sys.executable, "-S", "-c", "pass"], Path(folder), SandboxLimits(timeout_s=30)).ok
            boxed.append(time.perf_counter() - start)
    return statistics.median(bare), statistics.median(boxed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    endpoint = SlowEndpoint()
    models = EndpointModels(endpoint.url)
    tasks = make_tasks("fileqa", args.tasks, 0)
    one = throughput(tasks, 1, models)
    eight = throughput(tasks, 8, models)
    bare, boxed = sandbox_overhead(args.repetitions)
    lines = ["## HAL harness", "", f"`python benchmarks/hal.py` ({platform.machine()}, {args.tasks} file-QA tasks, "
             f"ReAct agent, {STEPS} model calls per task, each waiting {LATENCY_S * 1000:.0f} ms on a local HTTP endpoint)", "",
             "| measurement | value |", "|---|---|",
             f"| tasks/min, 1 concurrent task | {one:.1f} |", f"| tasks/min, 8 concurrent tasks | {eight:.1f} |",
             f"| ratio 8 vs 1 (goal ≥ 6) | {eight / one:.2f} |",
             f"| `python -S -c pass` unsandboxed (median of {args.repetitions}) | {bare * 1000:.1f} ms |",
             f"| the same in the bubblewrap sandbox | {boxed * 1000:.1f} ms |",
             f"| sandbox start-up overhead per task (goal < 50 ms) | {(boxed - bare) * 1000:.1f} ms |"]
    try:
        import ray

        from helm_plugins.agents.hal.harness import RayBackend

        backend = RayBackend(4)
        ray_rate = throughput(tasks, 4, models, backend)
        local_rate = throughput(tasks, 4, models)
        ray.shutdown()
        lines += [f"| tasks/min, 4 concurrent, local backend | {local_rate:.1f} |",
                  f"| tasks/min, 4 concurrent, Ray backend (local cluster) | {ray_rate:.1f} |",
                  f"| ratio Ray vs local | {ray_rate / local_rate:.2f} |"]
    except ImportError:
        lines.append("| Ray vs local | not measured: Ray is not installed (pip install 'helm-plugins[ray]') |")
    lines += ["", "Sandbox start-up is a few process executions (prlimit, bwrap, setpriv); it varies with the machine's load."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
