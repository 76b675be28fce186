"""A local OpenAI-compatible chat endpoint on 127.0.0.1 for tests: replies come from a Python function.

    with FakeOpenAIServer(lambda model, prompt: "[[Y]]") as server:
        ...  # point an OpenAIClient deployment at server.base_url
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Tuple

Reply = Callable[[str, str], str]  # (model, prompt) -> reply text


class FakeOpenAIServer:
    def __init__(self, reply: Reply):
        self.reply = reply
        self.requests: List[Tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
                if isinstance(prompt, list):  # content parts
                    prompt = "".join(part.get("text", "") for part in prompt)
                server.requests.append((body["model"], prompt))
                text = server.reply(body["model"], prompt)
                usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                         "total_tokens": (len(prompt) + len(text)) // 4}
                if "messages" in body:
                    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                    payload = {"id": "fake", "object": "chat.completion", "created": 0, "model": body["model"],
                               "choices": [choice], "usage": usage}
                else:
                    payload = {"id": "fake", "object": "text_completion", "created": 0, "model": body["model"],
                               "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                               "usage": usage}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAIServer":
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
