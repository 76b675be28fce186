"""A model-driven machine-learning engineer (standard library only): each model call goes through the harness
gateway, i.e. a HELM request on the run's deployment. Per step the model writes a complete Python program in a
```python block that reads train.csv / test.csv and writes submission.csv; the agent runs it (inside its own
sandbox, with a time limit) and shows the model the outcome (errors, or the validation it printed), up to
`max_steps` steps. The answer is the last submission that was written (none: an empty answer, scored invalid).
Keyword arguments: max_steps, max_tokens, temperature, run_timeout.
"""

import json
import os
import re
import subprocess
import sys

import hal_gateway

CODE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
HEAD_LINES = 6


def head(name, lines=HEAD_LINES):
    try:
        with open(name) as file:
            return "".join(file.readline() for _ in range(lines))
    except OSError:
        return "(missing)"


def first_prompt(task):
    info = task["task"]
    parts = [
        "You are a machine-learning engineer. Solve this task by writing ONE complete Python 3 program.",
        "The program runs in the current directory without network access. pandas, numpy and scikit-learn are "
        "installed. It must read train.csv and test.csv and write submission.csv with exactly the columns of "
        "sample_submission.csv, one row per test id. Print a validation score if you compute one.",
        "", "Task description:", task["instruction"], "", "Task settings: " + json.dumps(info),
    ]
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        parts += ["", f"First lines of {name}:", head(name)]
    parts += ["", "Answer with the program in a ```python code block."]
    return "\n".join(parts)


def run(tasks, max_steps=3, max_tokens=1500, temperature=0.0, run_timeout=120, **kwargs):
    answers = {}
    for task_id, task in tasks.items():
        messages = [{"role": "user", "content": first_prompt(task)}]
        submission, steps = "", 0
        for step in range(int(max_steps)):
            steps += 1
            reply = hal_gateway.complete(messages, max_tokens=int(max_tokens), temperature=float(temperature))
            text = reply.get("text", "")
            messages.append({"role": "assistant", "content": text})
            match = CODE.search(text)
            if not match:
                messages.append({"role": "user", "content": "No ```python block found. Write the whole program."})
                continue
            with open("solution.py", "w") as file:
                file.write(match.group(1))
            if os.path.exists("submission.csv"):
                os.remove("submission.csv")
            try:
                done = subprocess.run([sys.executable, "solution.py"], capture_output=True, text=True,
                                      timeout=float(run_timeout))
                outcome = f"exit code {done.returncode}\nstdout:\n{done.stdout[-1500:]}\nstderr:\n{done.stderr[-1500:]}"
            except subprocess.TimeoutExpired:
                outcome = f"timed out after {run_timeout} s"
            hal_gateway.log(f"step {step + 1}: {outcome[:500]}")
            if os.path.exists("submission.csv"):
                with open("submission.csv") as file:
                    submission = file.read()
                if "exit code 0" in outcome:
                    break
            messages.append({"role": "user", "content": f"The program ran: {outcome}\nFix it and answer with the "
                                                        "whole program in a ```python block."})
        answers[task_id] = {"answer": submission, "metrics": {"steps": steps}}
    return answers
