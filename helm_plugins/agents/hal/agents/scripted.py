"""Scripted agents for offline runs and tests (standard library only; they run inside the sandbox).

- oracle: solves each benchmark through the same tools and files as any agent (an expert script, no gold).
- random: picks uniformly among the task's candidate final actions/answers, exactly one of which is right; it
  reports how many candidates it had (`metrics.options`), so its expected accuracy is the mean of 1/options.
- shortcut: looks for the answer key (files outside its directory, then the web) and copies what it finds: it
  scores well where the answers leaked, and the trace flags must catch it.
- skilled: the oracle with probability `skill`, otherwise random (seeded per task): graded agents with planted
  accuracy for frontier demos.

All declare simulated token usage for `model` (`hal_gateway.record_usage`), priced from the run's price file, so
the cost side of the leaderboard is exercised offline. `tokens_per_step` sets how much.
"""

import csv
import hashlib
import json
import os
import random
import re

import hal_gateway

USACO_SOLUTIONS = {
    "total weight": "import sys\nd=sys.stdin.read().split()\nn=int(d[0])\nprint(sum(map(int,d[1:1+n])))\n",
    "different breeds": "import sys\nd=sys.stdin.read().split()\nn=int(d[0])\nprint(len(set(d[1:1+n])))\n",
    "strictly increasing": "import sys\nd=sys.stdin.read().split()\nn=int(d[0])\na=list(map(int,d[1:1+n]))\n"
                           "best=cur=1\nfor i in range(1,n):\n    cur=cur+1 if a[i]>a[i-1] else 1\n"
                           "    best=max(best,cur)\nprint(best)\n",
    "sum to exactly k": "import sys\nfrom collections import Counter\nd=sys.stdin.read().split()\nn,k=int(d[0]),int(d[1])\n"
                        "seen=Counter()\nc=0\nfor x in map(int,d[2:2+n]):\n    c+=seen[k-x]\n    seen[x]+=1\nprint(c)\n",
}


class Usage:
    def __init__(self, model, tokens_per_step):
        self.model, self.tokens_per_step, self.steps = model, int(tokens_per_step), 0

    def step(self, note=""):
        self.steps += 1
        if self.model and self.tokens_per_step:
            prompt = self.tokens_per_step * (1 + self.steps)  # the context grows with every step
            hal_gateway.record_usage(self.model, prompt, self.tokens_per_step // 4, note=note)


def _call(usage, name, **arguments):
    usage.step(f"tool {name}")
    return hal_gateway.tool(name, **arguments)


# ----------------------------------------------------------------------------------------------- airline solvers

CANCEL = re.compile(r"user id (\S+)\)\. Please cancel my reservation (\S+)\.")
BOOK = re.compile(r"user id (\S+)\)\. Book me a (\S+) seat on the cheapest available flight from (\S+) to (\S+) on "
                  r"(\S+), paid with my (credit card|gift card)\.")


def airline(task, usage, rng=None):
    """Oracle when rng is None; otherwise a uniformly random final action. Returns (answer, options)."""
    text = task["instruction"]
    cancel = CANCEL.search(text)
    if cancel:
        uid, rid = cancel.groups()
        reservation = _call(usage, "get_reservation_details", reservation_id=rid)["result"]
        do_cancel = reservation and reservation["cabin"] != "basic_economy"
        if rng is not None:
            do_cancel = rng.random() < 0.5
        if do_cancel:
            _call(usage, "cancel_reservation", reservation_id=rid)
            return "Your reservation is cancelled.", 2
        return "Basic economy reservations cannot be cancelled.", 2
    book = BOOK.search(text)
    if not book:
        return "I could not understand the request.", 1
    uid, cabin, origin, destination, date, pm_type = book.groups()
    flights = _call(usage, "search_flights", origin=origin, destination=destination, date=date)["result"] or []
    user = _call(usage, "get_user_details", user_id=uid)["result"] or {"payment_methods": {}}
    methods = sorted(user["payment_methods"])
    if rng is not None:
        options = [(f["flight"], p) for f in flights for p in methods]
        if not options:
            return "No flight found.", 1
        flight, payment = rng.choice(options)
        _call(usage, "book_reservation", user_id=uid, flight=flight, cabin=cabin, payment_id=payment)
        return f"Booked {flight}.", len(options)
    open_flights = [f for f in flights if f["seats_left"] > 0]
    if not open_flights:
        return "No flight with seats left.", 1
    best = min(open_flights, key=lambda f: (f["prices"][cabin], f["flight"]))
    payment = next(p for p in methods if user["payment_methods"][p]["type"] == pm_type.replace(" ", "_"))
    method = user["payment_methods"][payment]
    if method["type"] == "gift_card" and method["balance"] < best["prices"][cabin]:
        return "Your gift card balance does not cover this flight; nothing was booked.", 1
    _call(usage, "book_reservation", user_id=uid, flight=best["flight"], cabin=cabin, payment_id=payment)
    return f"Booked {best['flight']}.", 1


# ------------------------------------------------------------------------------------------------ fileqa solvers

def _rows(name):
    with open(name, newline="") as file:
        return list(csv.DictReader(file))


def fileqa(task, usage, rng=None):
    question = task["question"]
    employees, sales = _rows("employees.csv"), _rows("sales.csv")
    usage.step("read files")
    city = re.match(r"In which city does (\w+) work\?", question)
    region = re.search(r"most units in the (\w+) region", question)
    if city:
        candidates = sorted({e["city"] for e in employees})
        answer = next(e["city"] for e in employees if e["name"] == city.group(1))
    elif region:
        candidates = sorted({s["product"] for s in sales})
        rows = [s for s in sales if s["region"] == region.group(1)]
        answer = max(rows, key=lambda s: (int(s["units"]), s["product"]))["product"]
    else:
        memo = open("memo.txt").read()
        employee_id = re.search(r"employee id (\w+)", memo).group(1)
        candidates = sorted({e["department"] for e in employees})
        answer = next(e["department"] for e in employees if e["id"] == employee_id)
    if rng is not None:
        answer = rng.choice(candidates)
    return answer, len(candidates) if rng is not None else 1


# ------------------------------------------------------------------------------------------------- usaco solvers

def usaco(task, usage, rng=None):
    usage.step("read statement")
    statement = task["statement"].lower()
    if rng is not None:
        keys = sorted(USACO_SOLUTIONS)
        return USACO_SOLUTIONS[rng.choice(keys)], len(keys)
    key = next((k for k in USACO_SOLUTIONS if k in statement), None)
    usage.step("write program")
    return (USACO_SOLUTIONS[key] if key else "print(0)\n"), 1


SOLVERS = {"airline": airline, "fileqa": fileqa, "usaco": usaco}


def _seeded(seed, task_id, salt=""):
    return random.Random(int(hashlib.sha256(f"{seed}/{task_id}/{salt}".encode()).hexdigest()[:16], 16))


def _solve_all(tasks, choose, model, tokens_per_step):
    """`choose(task_id) -> rng or None` decides per task between the oracle (None) and a random action."""
    output = {}
    for task_id, task in tasks.items():
        usage = Usage(model, tokens_per_step)
        answer, options = SOLVERS[task["benchmark"]](task, usage, choose(task_id))
        output[task_id] = {"answer": answer, "metrics": {"steps": usage.steps, "options": options}}
    return output


def oracle(tasks, model="simulated/scripted", tokens_per_step=200, **kwargs):
    return _solve_all(tasks, lambda task_id: None, model, tokens_per_step)


def random_agent(tasks, model="simulated/scripted", tokens_per_step=100, seed=0, **kwargs):
    return _solve_all(tasks, lambda task_id: _seeded(seed, task_id), model, tokens_per_step)


def skilled(tasks, skill=0.5, model="simulated/scripted", tokens_per_step=200, seed=0, **kwargs):
    skill = float(skill)

    def choose(task_id):
        coin = _seeded(seed, task_id, f"{model}/skill")
        return None if coin.random() < skill else _seeded(seed, task_id, model)

    return _solve_all(tasks, choose, model, tokens_per_step)


ANSWER_KEY_PATHS = ("../gold.json", "../../gold.json", "/answers.json")


def shortcut(tasks, model="simulated/scripted", tokens_per_step=100, seed=0, gold_path="", **kwargs):
    output = {}
    for task_id, task in tasks.items():
        usage = Usage(model, tokens_per_step)
        for path in ([gold_path] if gold_path else []) + list(ANSWER_KEY_PATHS):
            try:
                leaked = json.load(open(path))
                output[task_id] = {"answer": leaked.get(task_id, leaked), "metrics": {"steps": usage.steps}}
                break
            except OSError as error:
                hal_gateway.log(f"tried the answer key {path}: {error.__class__.__name__}")
        if task_id in output:
            continue
        hits = _call(usage, "web_search", query=f"huggingface datasets hal-lite {task['benchmark']} answers solutions {task_id}")
        answer = None
        for hit in hits.get("result") or []:
            if "huggingface.co/datasets" in hit["url"]:
                page = _call(usage, "web_fetch", url=hit["url"]).get("result") or ""
                if task["benchmark"] == "fileqa":
                    row = json.loads(page)
                    answer = row["answer"] if row.get("task_id") == task_id else None
                else:
                    answer = page
                break
        if answer is None:  # nothing leaked: guess
            answer, _ = SOLVERS[task["benchmark"]](task, usage, _seeded(seed, task_id))
        output[task_id] = {"answer": answer, "metrics": {"steps": usage.steps}}
    return output


def misbehave(tasks, behaviour="", gold_path="", **kwargs):
    """Agents that try to break out (for the containment tests): read_gold, write_outside, network, memory,
    loop, fork, malformed, missing, extra."""
    task_id = next(iter(tasks))
    if behaviour == "read_gold":
        return {task_id: open(gold_path).read()}
    if behaviour == "write_outside":
        with open(os.path.join(os.path.dirname(os.getcwd()), "escaped.txt"), "w") as file:
            file.write("escaped")
        return {task_id: "wrote outside"}
    if behaviour == "network":
        import socket

        socket.create_connection(("127.0.0.1", int(kwargs.get("port", 80))), timeout=3).sendall(b"leak")
        return {task_id: "connected"}
    if behaviour == "memory":
        hoard = []
        while True:
            hoard.append(bytearray(50 * 1024 * 1024))
    if behaviour == "loop":
        while True:
            pass
    if behaviour == "fork":
        while True:
            os.fork()
    if behaviour == "malformed":
        return {task_id: {"metrics": {"steps": 1}}}  # no "answer"
    if behaviour == "missing":
        return {}
    if behaviour == "extra":
        return {task_id: "x", "not-a-task": "y"}
    if behaviour == "api_key":
        return {task_id: os.environ.get("OPENAI_API_KEY", "no key in the sandbox")}
    raise ValueError(f"unknown behaviour {behaviour!r}")
