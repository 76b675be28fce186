import os
import signal
import time

import pytest

from helm_plugins.runners.rl.actors import ProcessActors, SimulatedActors


class SleepRunner:
    """Actions are ("fast"|"slow"|"die"): sleep 0.05 s or 0.4 s, or kill the worker process mid-action."""

    def run(self, action, time_limit=None):
        if action == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        seconds = {"fast": 0.05, "slow": 0.4}[action]
        time.sleep(seconds)
        return {"status": "ok", "score": 1.0, "markers": 5, "duration_s": seconds, "timed_out": False}


def test_real_actors_collect_fast_actions_more_often_and_survive_a_killed_worker():
    with ProcessActors(2, SleepRunner(), min_action_s=0.05) as actors:
        first = {"done": False}

        def sample(previous):  # actor 0 keeps doing fast actions, actor 1 slow ones; one action kills its worker
            if previous is not None:
                return previous.action
            if not first["done"]:
                first["done"] = True
                return "die"
            return "fast"

        window = actors.next_batch(sample, 1.5)
        assert window.dropped == 1 and len(actors.dropped) == 1 and actors.dropped[0]["action"] == "die"
        assert window.completions and all(c.action == "fast" for c in window.completions)
        kinds = iter(["fast", "slow"])  # training goes on: the next window has both workers again
        mixed = actors.next_batch(lambda previous: previous.action if previous else next(kinds, "slow"), 2.0)
    counts = {kind: sum(c.action == kind for c in mixed.completions) for kind in ("fast", "slow")}
    assert counts["fast"] > 2 * counts["slow"] >= 2  # same wall time, many more fast completions


def test_simulated_actors_cut_actions_that_overrun_the_window():
    actors = SimulatedActors(2, lambda action: {"status": "ok", "score": 0.0, "duration_s": action})
    window = actors.next_batch(lambda previous: 3.0, 10.0)
    assert len(window.completions) == 6 and window.cut == 2 and actors.clock == 10.0
    with pytest.raises(ValueError, match="positive"):
        actors.next_batch(lambda previous: 0.0, 10.0)
