"""A ReAct tool-calling agent (standard library only): every model call goes through the harness gateway, i.e. a
HELM request on the run's deployment (HELM's cache, retries, token counts and prices apply).

Each step the model writes

    Thought: <reasoning>
    Action: <tool name>
    Action Input: <JSON object of arguments>

and gets back `Observation: <result>`, until it writes `Final Answer: <answer>` (for programs, the program in a
code block). Tools are the task's environment tools plus local ones: read_file and list_files (the task's files)
and, for programming tasks, run_python (runs a program on an input inside the same sandbox). Keyword arguments:
max_steps, reasoning_effort (low|medium|high: stated in the system prompt; pair it with the deployment's own
effort setting where the provider has one), max_tokens, temperature.
"""

import json
import os
import re
import subprocess
import sys

import hal_gateway

FINAL = re.compile(r"Final Answer:\s*(.*)", re.DOTALL)
ACTION = re.compile(r"Action:\s*([A-Za-z_][\w]*)\s*\n\s*Action Input:\s*(\{.*?\})\s*(?:\n|$)", re.DOTALL)
CODE = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)
EFFORT = {"low": "Answer as directly as you can.", "medium": "Think briefly before each action.",
          "high": "Think carefully, step by step, and check your answer before giving it."}
MAX_FILE_CHARS = 3000
MAX_OBSERVATION_CHARS = 2000


def local_tools(benchmark):
    tools = [{"name": "list_files", "description": "Names of the task's files.", "parameters": {}},
             {"name": "read_file", "description": "Text of one of the task's files.", "parameters": {"name": "string"}}]
    if benchmark == "usaco":
        tools.append({"name": "run_python", "description": "Run a Python program on an input; returns its output.",
                      "parameters": {"code": "string", "stdin": "string"}})
    return tools


def run_local(name, arguments):
    if name == "list_files":
        return sorted(f for f in os.listdir(".") if f not in ("input.json", "agent_args.json", "agent_spec.json",
                                                                 "run_agent.py", "hal_gateway.py", "agent"))
    if name == "read_file":
        path = os.path.basename(str(arguments.get("name", "")))
        with open(path) as file:
            return file.read()[:MAX_FILE_CHARS]
    if name == "run_python":
        completed = subprocess.run([sys.executable, "-c", str(arguments.get("code", ""))],
                                   input=str(arguments.get("stdin", "")), capture_output=True, text=True, timeout=10)
        return (completed.stdout + completed.stderr)[-MAX_OBSERVATION_CHARS:]
    raise KeyError(name)


def system_prompt(task, tools, effort):
    lines = ["You are an agent solving a task with tools. Use this format:",
             "Thought: <reasoning>", "Action: <tool name>", "Action Input: <JSON object>",
             "You then get an Observation. When done, write: Final Answer: <answer>", "", "Tools:"]
    lines += [f"- {t['name']}({', '.join(f'{k}: {v}' for k, v in t.get('parameters', {}).items())}): {t['description']}"
              for t in tools]
    if task.get("policy"):
        lines += ["", task["policy"]]
    if task.get("answer_format"):
        lines += ["", f"The final answer is {task['answer_format']}."]
    if effort:
        lines += ["", f"Reasoning effort: {effort}. {EFFORT.get(effort, '')}"]
    return "\n".join(lines)


def task_prompt(task):
    parts = [task.get("instruction") or task.get("question") or task.get("statement") or json.dumps(task)]
    for name in task.get("files", []):
        try:
            with open(name) as file:
                parts.append(f"File {name}:\n{file.read()[:MAX_FILE_CHARS]}")
        except OSError:
            pass
    if "sample_input" in task:
        parts.append(f"Sample input:\n{task['sample_input']}Sample output:\n{task['sample_output']}")
    return "\n\n".join(parts)


def extract_final(text, benchmark):
    answer = FINAL.search(text).group(1).strip()
    if benchmark == "usaco":
        code = CODE.search(answer) or CODE.search(text)
        return code.group(1) if code else answer
    return answer.splitlines()[0].strip() if answer else ""


def solve(task, max_steps, effort, max_tokens, temperature):
    benchmark = task.get("benchmark", "")
    env_tools = task.get("tools", [])
    tools = env_tools + local_tools(benchmark)
    messages = [{"role": "system", "content": system_prompt(task, tools, effort)},
                {"role": "user", "content": task_prompt(task)}]
    for step in range(1, max_steps + 1):
        reply = hal_gateway.complete(messages, max_tokens=max_tokens, temperature=temperature, stop=["Observation:"])
        text = reply["text"]
        messages.append({"role": "assistant", "content": text or "(empty)"})
        if FINAL.search(text):
            return extract_final(text, benchmark), step
        action = ACTION.search(text)
        if not action:
            observation = "Invalid format: write an Action with an Action Input JSON object, or a Final Answer."
        else:
            name = action.group(1)
            try:
                arguments = json.loads(action.group(2))
            except json.JSONDecodeError as error:
                arguments, observation = None, f"Action Input is not JSON: {error}"
            if arguments is not None:
                if name in {t["name"] for t in env_tools}:
                    outcome = hal_gateway.tool(name, **arguments)
                    observation = f"ERROR {outcome['error']}" if outcome.get("error") else json.dumps(outcome.get("result"))
                else:
                    try:
                        observation = json.dumps(run_local(name, arguments))
                    except Exception as error:  # an agent's tool error is an observation, not a crash
                        observation = f"ERROR {type(error).__name__}: {error}"
                    hal_gateway.log(f"local tool {name}({json.dumps(arguments)[:200]}) -> {observation[:200]}")
        messages.append({"role": "user", "content": f"Observation: {observation[:MAX_OBSERVATION_CHARS]}"})
    return "", max_steps


def run(tasks, max_steps=12, reasoning_effort="", max_tokens=512, temperature=0.0, **kwargs):
    output = {}
    for task_id, task in tasks.items():
        answer, steps = solve(task, int(max_steps), reasoning_effort, int(max_tokens), float(temperature))
        output[task_id] = {"answer": answer, "metrics": {"steps": steps}}
    return output
