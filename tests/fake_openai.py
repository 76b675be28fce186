"""A local OpenAI-compatible chat endpoint on 127.0.0.1 for tests: replies come from a Python function.

    with FakeOpenAIServer(lambda model, prompt: "[[Y]]") as server:
        ...  # point an OpenAIClient deployment at server.base_url
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Optional, Tuple

Reply = Callable[[str, str], str]  # (model, prompt) -> reply text


class Refusal(Exception):
    """Raised by `replies` to answer with an HTTP error, as a provider rejecting the request would."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def prompt_of(body: dict) -> str:
    """The last message's text (chat) or the prompt (completions)."""
    prompt = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    if isinstance(prompt, list):  # content parts
        prompt = "".join(part.get("text", "") for part in prompt)
    return prompt


class FakeOpenAIServer:
    """`reply(model, prompt)` answers each request (subclasses may override `replies(body)` instead); every body
    is kept in `bodies` and its (model, prompt) in `requests`. `latency` delays each answer; `fail_status`
    makes every request fail with that HTTP status; `replies` may raise `Refusal` for one request."""

    def __init__(self, reply: Optional[Reply] = None, latency: float = 0.0, fail_status: Optional[int] = None):
        self.reply = reply
        self.latency, self.fail_status = latency, fail_status
        self.requests: List[Tuple[str, str]] = []
        self.bodies: List[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    server.requests.append((body["model"], prompt_of(body)))
                if server.latency:
                    time.sleep(server.latency)
                if server.fail_status:
                    self.send(server.fail_status, {"error": {"message": "planted failure", "type": "bad_request"}})
                    return
                try:
                    texts = server.replies(body)
                except Refusal as refusal:
                    self.send(refusal.status, {"error": {"message": str(refusal), "type": "invalid_request_error"}})
                    return
                prompt = prompt_of(body)
                usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": sum(map(len, texts)) // 4,
                         "total_tokens": (len(prompt) + sum(map(len, texts))) // 4}
                if "messages" in body:
                    choices = [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": t}}
                               for i, t in enumerate(texts)]
                    payload = {"id": "fake", "object": "chat.completion", "created": 0, "model": body["model"],
                               "choices": choices, "usage": usage}
                else:
                    choices = [{"index": i, "text": t, "finish_reason": "stop", "logprobs": None} for i, t in enumerate(texts)]
                    payload = {"id": "fake", "object": "text_completion", "created": 0, "model": body["model"],
                               "choices": choices, "usage": usage}
                self.send(200, payload)

            def send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def replies(self, body: dict) -> List[str]:
        """The `n` completions of one request."""
        return [self.reply(body["model"], prompt_of(body)) for _ in range(body.get("n") or 1)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def deployment_yaml(base_url: str, names: List[str]) -> str:
    """prod_env/model_deployments.yaml serving `names` (org/model) from the fake endpoint with HELM's OpenAIClient."""
    entries = "".join(
        f"  - name: {name}\n    model_name: {name}\n    client_spec:\n"
        f"      class_name: helm.clients.openai_client.OpenAIClient\n"
        f"      args: {{base_url: \"{base_url}\", api_key: test-key, openai_model_name: {name.split('/')[1]}}}\n"
        for name in names
    )
    return f"model_deployments:\n{entries}"
