"""The policy and the learner: a factorised categorical policy over solution-program components, trained by a policy
gradient with group-normalised advantages, with or without the paper's duration weighting.

With asynchronous actors an action x of duration dt_x finishes n_x ~ pi(x) T / dt_x times in wall time T, so an
unweighted batch over-represents fast actions by 1/dt. The paper's estimator multiplies each sample's term by its
duration, rescaled by the batch mean, w_k = dt_k / mean(dt):

    g = 1/B sum_k w_k A_k grad log pi(a_k)        (w_k = 1 without the weighting)

which restores the synchronous expectation E_pi[A grad log pi] (`duration_weights`, `policy_gradient`).

Actions: "solve" samples every component head; "improve" takes a previous solution and its outcome (ran or failed),
samples which component to change (`edit` logits, one row per outcome) and then its new value (the component's
head, the current value excluded).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Literal, Mapping, Optional, Sequence, Tuple

import numpy as np

Advantage = Literal["group_norm", "batch_mean", "none"]
STATUSES = ("ran", "failed")  # the rows of the edit logits: the previous solution's outcome


def softmax(logits: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
    z = np.where(mask, logits, -np.inf) if mask is not None else logits
    z = z - np.max(z)
    p = np.exp(z)
    return p / p.sum()


@dataclass(frozen=True)
class Action:
    """A sampled action: the program's components (head -> option index) and, for "improve", what was edited."""

    kind: Literal["solve", "improve"]
    choice: Tuple[Tuple[str, int], ...]
    edited: Optional[str] = None  # improve: the component changed
    status: Optional[str] = None  # improve: the previous solution's outcome ("ran"/"failed")
    previous: Optional[Tuple[Tuple[str, int], ...]] = None

    @property
    def components(self) -> Dict[str, int]:
        return dict(self.choice)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "choice": dict(self.choice), "edited": self.edited, "status": self.status,
                "previous": dict(self.previous) if self.previous else None}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Action":
        previous = data.get("previous")
        return cls(data["kind"], tuple(data["choice"].items()), data.get("edited"), data.get("status"),
                   tuple(previous.items()) if previous else None)


@dataclass
class FactorisedPolicy:
    """Independent categorical heads (one per program component) plus the improve-edit logits."""

    heads: Dict[str, List[str]]  # component -> option names
    logits: Dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        for name, options in self.heads.items():
            if len(options) < 1:
                raise ValueError(f"policy head {name!r} has no options")
            self.logits.setdefault(name, np.zeros(len(options)))
        self.logits.setdefault("edit", np.zeros((len(STATUSES), len(self.heads))))
        self._editable = np.array([len(options) > 1 for options in self.heads.values()])

    @property
    def head_names(self) -> List[str]:
        return list(self.heads)

    def probabilities(self, head: str) -> np.ndarray:
        return softmax(self.logits[head])

    def sample_solve(self, rng: np.random.Generator) -> Action:
        choice = tuple((h, int(rng.choice(len(o), p=self.probabilities(h)))) for h, o in self.heads.items())
        return Action("solve", choice)

    def _edit_probabilities(self, status: str) -> np.ndarray:
        return softmax(self.logits["edit"][STATUSES.index(status)], self._editable)

    def _value_mask(self, head: str, current: int) -> np.ndarray:
        mask = np.ones(len(self.heads[head]), dtype=bool)
        mask[current] = False
        return mask

    def sample_improve(self, previous: Action, status: str, rng: np.random.Generator) -> Action:
        if not self._editable.any():
            return self.sample_solve(rng)
        heads = self.head_names
        edited = heads[int(rng.choice(len(heads), p=self._edit_probabilities(status)))]
        choice = previous.components
        values = softmax(self.logits[edited], self._value_mask(edited, choice[edited]))
        choice[edited] = int(rng.choice(len(values), p=values))
        return Action("improve", tuple(choice.items()), edited, status, previous.choice)

    def log_prob(self, action: Action) -> float:
        if action.kind == "solve":
            return float(sum(np.log(self.probabilities(h)[i]) for h, i in action.choice))
        previous = dict(action.previous)
        heads = self.head_names
        edit = self._edit_probabilities(action.status)[heads.index(action.edited)]
        values = softmax(self.logits[action.edited], self._value_mask(action.edited, previous[action.edited]))
        return float(np.log(edit) + np.log(values[action.components[action.edited]]))

    def grad_log_prob(self, action: Action) -> Dict[str, np.ndarray]:
        """d log pi(action) / d logits, per parameter array."""
        grad = {name: np.zeros_like(value) for name, value in self.logits.items()}
        if action.kind == "solve":
            for head, index in action.choice:
                grad[head] = -self.probabilities(head)
                grad[head][index] += 1.0
            return grad
        previous = dict(action.previous)
        row = STATUSES.index(action.status)
        grad["edit"][row] = -self._edit_probabilities(action.status)
        grad["edit"][row][self.head_names.index(action.edited)] += 1.0
        values = softmax(self.logits[action.edited], self._value_mask(action.edited, previous[action.edited]))
        grad[action.edited] = -values
        grad[action.edited][action.components[action.edited]] += 1.0
        return grad

    def mode(self) -> Dict[str, str]:
        """The most likely option of each head."""
        return {h: o[int(np.argmax(self.logits[h]))] for h, o in self.heads.items()}

    def state(self) -> Dict[str, list]:
        return {name: value.tolist() for name, value in self.logits.items()}

    @classmethod
    def from_state(cls, heads: Dict[str, List[str]], state: Mapping[str, list]) -> "FactorisedPolicy":
        policy = cls(heads)
        for name, value in state.items():
            array = np.asarray(value, dtype=float)
            if name not in policy.logits or array.shape != policy.logits[name].shape:
                raise ValueError(f"checkpoint: policy parameter {name!r} has shape {array.shape}, expected "
                                 f"{policy.logits[name].shape if name in policy.logits else 'no such parameter'}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"checkpoint: policy parameter {name!r} is not finite")
            policy.logits[name] = array
        return policy


def duration_weights(durations: Sequence[float]) -> np.ndarray:
    """w_k = dt_k / mean(dt) over the batch (they average exactly 1)."""
    dt = np.asarray(durations, dtype=float)
    if len(dt) == 0:
        raise ValueError("duration weights of an empty batch")
    if not np.all(np.isfinite(dt)) or np.any(dt <= 0):
        raise ValueError(f"action durations must be positive and finite, got {dt.tolist()}")
    return dt / dt.mean()


def advantages(rewards: Sequence[float], kind: Advantage = "group_norm", eps: float = 1e-8) -> np.ndarray:
    """Group-normalised (r - mean) / std over the batch, centred r - mean, or the raw reward."""
    r = np.asarray(rewards, dtype=float)
    if kind == "none":
        return r.copy()
    centred = r - r.mean()
    if kind == "batch_mean":
        return centred
    std = r.std()
    return centred / std if std > eps else np.zeros_like(r)


def policy_gradient(policy: FactorisedPolicy, actions: Sequence[Action], rewards: Sequence[float],
                    durations: Sequence[float], weighted: bool,
                    advantage: Advantage = "group_norm") -> Dict[str, np.ndarray]:
    """1/B sum_k w_k A_k grad log pi(a_k), w = duration_weights(durations) if `weighted` else 1."""
    if not (len(actions) == len(rewards) == len(durations)) or not actions:
        raise ValueError(f"a batch needs as many actions, rewards and durations (got {len(actions)}, {len(rewards)}, "
                         f"{len(durations)}), at least one")
    if not np.all(np.isfinite(np.asarray(rewards, dtype=float))):
        raise ValueError(f"rewards must be finite, got {list(rewards)}")
    weights = duration_weights(durations) if weighted else np.ones(len(actions))
    adv = advantages(rewards, advantage)
    total = {name: np.zeros_like(value) for name, value in policy.logits.items()}
    for action, w, a in zip(actions, weights, adv):
        if w * a == 0:
            continue
        for name, g in policy.grad_log_prob(action).items():
            total[name] += w * a * g
    return {name: value / len(actions) for name, value in total.items()}


def apply_gradient(policy: FactorisedPolicy, gradient: Mapping[str, np.ndarray], learning_rate: float) -> None:
    """Gradient ascent on the expected reward."""
    for name, g in gradient.items():
        policy.logits[name] = policy.logits[name] + learning_rate * g
