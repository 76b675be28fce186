"""Runs one agent inside its sandbox (as HAL's generated run_agent.py): reads input.json and agent_args.json,
imports the agent's `run` from the copied agent folder, writes output.json. Standard library only."""

import importlib
import json
import os
import sys
import traceback

here = os.path.dirname(os.path.abspath(__file__))
spec = json.load(open(os.path.join(here, "agent_spec.json")))
sys.path[:0] = [os.path.join(here, "agent"), here]
tasks = json.load(open(os.path.join(here, "input.json")))
kwargs = json.load(open(os.path.join(here, "agent_args.json")))
try:
    module = importlib.import_module(spec["module"])
    run = getattr(module, spec["function"])
    output = run(tasks, **kwargs)
    json.dumps(output)  # must be JSON
except Exception:
    traceback.print_exc()
    sys.exit(3)
with open(os.path.join(here, "output.json"), "w") as file:
    json.dump(output, file)
