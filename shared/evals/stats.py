"""Comparing two evaluation runs case by case: flips, Δpass@1 with its interval, McNemar, and the regression gate."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Mapping

CONFIDENCE = 0.95
SIGNIFICANCE = 0.05
RESAMPLES = 2_000
SEED = 26  # fixed: the same two runs always give the same interval


def _scored(attempt: Mapping[str, Any]) -> bool:
    """Whether an attempt counts in pass@1: graded 0 or 1, not a grader error, not cancelled before it ended."""
    return (attempt.get("reward") in (0, 1) and attempt.get("grade") != "grader_error"
            and attempt.get("classification") not in ("GRADER_ERROR", "CANCELLED"))


@dataclass(frozen=True)
class RunResults:
    """What a comparison needs of one run: each case's graded rewards, and what the run cost."""

    eval_id: str
    name: str
    rewards: Mapping[str, tuple[int, ...]]  # case id → rewards of its graded attempts (grader errors left out)
    cost_usd: float
    solved: int

    @classmethod
    def of_view(cls, view: Mapping[str, Any]) -> "RunResults":
        """From a run as `GET /v1/evals/{eval_id}` shows it."""
        rewards = {str(c["case_id"]): tuple(int(a["reward"]) for a in c.get("attempts") or [] if _scored(a))
                   for c in view.get("cases") or []}
        results = view.get("results") or {}
        solved = sum(1 for r in rewards.values() if any(r))
        return cls(eval_id=str(view.get("eval_id") or ""), name=str(view.get("name") or ""), rewards=rewards,
                   cost_usd=float(results.get("cost_usd") or 0.0), solved=solved)

    @property
    def cost_per_solved_usd(self) -> float | None:
        return self.cost_usd / self.solved if self.solved else None


@dataclass(frozen=True)
class Comparison:
    """Run B against run A, over the cases graded in both."""

    a: RunResults
    b: RunResults
    paired: int                  # cases graded in both runs
    unpaired: tuple[str, ...]    # cases graded in only one of them (left out of everything below)
    only_a: tuple[str, ...]      # solved (≥ 1 passing attempt) in A, not in B: lost by B
    only_b: tuple[str, ...]      # solved in B, not in A: won by B
    pass_at_1_a: float           # mean over the paired cases of the share of passing attempts
    pass_at_1_b: float
    delta: float                 # pass_at_1_b - pass_at_1_a
    interval: tuple[float, float]  # 95 % paired bootstrap interval of delta
    mcnemar_p: float             # exact two-sided McNemar p-value over the discordant cases


@dataclass(frozen=True)
class Verdict:
    """The gate's answer and the sentence that explains it."""

    passed: bool
    reason: str


def pass_rate(rewards: tuple[int, ...]) -> float:
    """A case's pass@1 estimate: the share of its attempts that passed."""
    return sum(rewards) / len(rewards)


def bootstrap_interval(diffs: list[float], *, resamples: int = RESAMPLES, seed: int = SEED,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval of the mean of `diffs`, resampling cases with replacement."""
    if not diffs:
        return (0.0, 0.0)
    rng, n = random.Random(seed), len(diffs)
    means = sorted(sum(rng.choices(diffs, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[max(0, math.floor(tail * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    return (low, high)


def mcnemar_exact(lost: int, won: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant cases against one half."""
    n = lost + won
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(lost, won) + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(a: RunResults, b: RunResults, *, resamples: int = RESAMPLES, seed: int = SEED) -> Comparison:
    """Run B against run A: flips, Δpass@1 with its interval, McNemar's p."""
    both = sorted(c for c in a.rewards.keys() & b.rewards.keys() if a.rewards[c] and b.rewards[c])
    graded = {c for c, r in a.rewards.items() if r} ^ {c for c, r in b.rewards.items() if r}
    only_a = tuple(c for c in both if any(a.rewards[c]) and not any(b.rewards[c]))
    only_b = tuple(c for c in both if any(b.rewards[c]) and not any(a.rewards[c]))
    p1_a = sum(pass_rate(a.rewards[c]) for c in both) / len(both) if both else 0.0
    p1_b = sum(pass_rate(b.rewards[c]) for c in both) / len(both) if both else 0.0
    diffs = [pass_rate(b.rewards[c]) - pass_rate(a.rewards[c]) for c in both]
    return Comparison(a=a, b=b, paired=len(both), unpaired=tuple(sorted(graded)), only_a=only_a, only_b=only_b,
                      pass_at_1_a=p1_a, pass_at_1_b=p1_b, delta=p1_b - p1_a,
                      interval=bootstrap_interval(diffs, resamples=resamples, seed=seed),
                      mcnemar_p=mcnemar_exact(len(only_a), len(only_b)))


GATE_RULE = ("B fails the gate when its pass@1 is lower than A's by more than POINTS percentage points "
             "(Δ < -POINTS/100) and the drop is significant: the whole 95 % bootstrap interval of Δ lies below "
             "-POINTS/100, or McNemar's exact p < 0.05 with more cases lost than won")


def gate(c: Comparison, points: float) -> Verdict:
    """Whether B may replace A: fails only on a drop larger than `points` that is also significant."""
    limit = -points / 100
    low, high = c.interval
    figures = (f"Δpass@1 {c.delta * 100:+.1f} points (95 % interval {low * 100:+.1f} to {high * 100:+.1f}), "
               f"McNemar p = {c.mcnemar_p:.3g}, {len(c.only_a)} lost / {len(c.only_b)} won")
    if c.paired == 0:
        return Verdict(False, "no case was graded in both runs: nothing to compare")
    if c.delta >= limit:
        return Verdict(True, f"passed: the drop is not larger than {points:g} points ({figures})")
    if high < limit:
        return Verdict(False, f"failed: B is worse than A by more than {points:g} points, the whole interval "
                              f"below -{points:g} ({figures})")
    if c.mcnemar_p < SIGNIFICANCE and len(c.only_a) > len(c.only_b):
        return Verdict(False, f"failed: B is worse than A by more than {points:g} points and McNemar's test is "
                              f"significant ({figures})")
    return Verdict(True, f"passed: B is lower by more than {points:g} points but not significantly ({figures})")
