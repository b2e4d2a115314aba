"""Figures of a plan: repeats, mixing points, cross-department share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .scoring import Scorer

__all__ = ["GroupFigures", "group_figures", "pairs_within"]


def pairs_within(groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair inside every group: (first, second, group number) index arrays."""
    first, second, owner = [], [], []
    for g, members in enumerate(groups):
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                first.append(members[a])
                second.append(members[b])
                owner.append(g)
    as_array = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    return as_array(first), as_array(second), as_array(owner)


@dataclass(frozen=True)
class GroupFigures:
    """What a set of groups achieves."""

    group_scores: tuple[int, ...]
    score: int
    repeats: int
    recency: int
    cross_department_share: float
    broken_rules: int


def group_figures(scorer: Scorer, groups: Sequence[Sequence[int]]) -> GroupFigures:
    """Score groups (lists of person indices) against the problem's objective."""
    i, j, owner = pairs_within(groups)
    if i.size == 0:
        return GroupFigures(tuple(0 for _ in groups), 0, 0, 0, 0.0, 0)
    mixing = scorer.mixing(i, j)
    age = scorer.last_met(i, j)
    dept = scorer.codes[0]
    cross = (dept[i] != dept[j]).mean()
    per_group = np.bincount(owner, weights=mixing, minlength=len(groups)).astype(np.int64)
    recency = int(np.where(age > 0, scorer.oldest + 1 - age, 0).sum())
    return GroupFigures(
        group_scores=tuple(int(s) for s in per_group),
        score=int(mixing.sum()),
        repeats=int((age > 0).sum()),
        recency=recency,
        cross_department_share=float(cross),
        broken_rules=int((~scorer.allowed(i, j)).sum()),
    )
