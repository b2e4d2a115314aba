"""Vectorised pair weights: the objective of docs/matching.md as integers over index arrays.

A :class:`Scorer` encodes a :class:`~solvers.model.Problem` as numpy arrays, so
the weight of many pairs is computed at once without a dense matrix (needed at
100,000 people). The lexicographic objective (repeats, then recency, then
mixing) is folded into one integer per pair::

    weight = mixing - repeat * (R1 + R2 * recency)

with ``R2`` larger than any possible change in mixing and ``R1`` larger than any
possible change in recency, so no amount of mixing buys a repeat. ``scale``
says over how many pairs a change can reach: a whole round (exact matching) or
one local move (local search), which keeps the numbers small.
"""

from __future__ import annotations

import numpy as np

from .bounds import type_assignment
from .model import ATTRIBUTES, FORBIDDEN, Problem

__all__ = ["FORBIDDEN", "Scorer"]



def _pair_keys(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    return lo.astype(np.int64) * n + hi.astype(np.int64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class _PairTable:
    """A set of pair keys with a value each (who met whom, the avoid list).

    An open-addressing hash table in numpy arrays: a lookup of many pairs costs
    one or two vectorised probes, several times quicker than a binary search
    over millions of pairs, which matters in the local search's inner loop.
    """

    def __init__(self, pairs: dict[tuple[int, int], int], n: int):
        self.n = n
        if pairs:
            idx = np.array(list(pairs.keys()), dtype=np.int64)
            keys = _pair_keys(idx.min(axis=1), idx.max(axis=1), n)
            values = np.array(list(pairs.values()), dtype=np.int64)
        else:
            keys = values = np.empty(0, np.int64)
        order = np.argsort(keys)
        self.keys, self.values = keys[order], values[order]
        self.bits = max(4, int(2 * max(len(keys), 1) - 1).bit_length() + 1)
        size = 1 << self.bits
        self.slot_keys = np.full(size, -1, dtype=np.int64)
        self.slot_values = np.zeros(size, dtype=np.int64)
        pending = np.arange(len(keys))
        slot = self._home(self.keys)
        self.probes = 0
        while pending.size:  # place what fits, move the rest one slot on
            self.probes += 1
            want = slot[pending]
            free = self.slot_keys[want] == -1
            first = np.zeros(len(pending), dtype=bool)
            _, winners = np.unique(want[free], return_index=True)
            first[np.nonzero(free)[0][winners]] = True
            placed = pending[first]
            self.slot_keys[want[first]] = self.keys[placed]
            self.slot_values[want[first]] = self.values[placed]
            pending = pending[~first]
            slot[pending] = (slot[pending] + 1) & (size - 1)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys.astype(np.uint64) * _GOLDEN
        return (hashed >> np.uint64(64 - self.bits)).astype(np.int64)

    def lookup(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Value for each pair (0 where absent)."""
        shape = np.broadcast(i, j).shape
        if self.keys.size == 0:
            return np.zeros(shape, dtype=np.int64)
        keys = _pair_keys(np.minimum(i, j), np.maximum(i, j), self.n).ravel()
        slot = self._home(keys)
        out = np.zeros(keys.shape, dtype=np.int64)
        active = np.arange(keys.size)
        mask = len(self.slot_keys) - 1
        for _ in range(self.probes):
            found = self.slot_keys[slot[active]]
            hit = found == keys[active]
            out[active[hit]] = self.slot_values[slot[active[hit]]]
            active = active[~hit & (found != -1)]
            if not active.size:
                break
            slot[active] = (slot[active] + 1) & mask
        return out.reshape(shape)


class Scorer:
    """Integer pair weights for one problem, over index arrays.

    People are indexed ``0..n-1`` in the order of ``problem.people``.
    """

    def __init__(self, problem: Problem, *, pairs_per_change: int):
        people = problem.people
        self.problem = problem
        self.n = n = len(people)
        self.ids = [p.id for p in people]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.weights = np.array(problem.weights.as_tuple(), dtype=np.int64)
        # Attribute codes; -1 is "unknown", which never differs from anything.
        self.codes = np.empty((len(ATTRIBUTES), n), dtype=np.int64)
        for a, name in enumerate(ATTRIBUTES):
            values: dict[str, int] = {}
            self.codes[a] = [
                values.setdefault(v, len(values)) if (v := getattr(p, name)) else -1
                for p in people
            ]
        sites: dict[str, int] = {}
        self.site = np.array([sites.setdefault(p.site, len(sites)) for p in people], np.int64)
        self.virtual = np.array([p.accepts_virtual for p in people], dtype=bool)
        self.in_person = np.array([p.accepts_in_person for p in people], dtype=bool)

        met = {}
        for (a, b), age in problem.history.last_met.items():
            if a in self.index and b in self.index:
                met[(self.index[a], self.index[b])] = age
        self.met = _PairTable(met, n)
        self.oldest = max(met.values(), default=0)
        avoid = {
            (self.index[a], self.index[b]): 1
            for a, b in problem.avoid
            if a in self.index and b in self.index
        }
        self.avoid = _PairTable(avoid, n)

        # Lexicographic scale: see the module docstring.
        changes = max(1, pairs_per_change)
        self.r2 = int(problem.weights.max_pair) * changes + 1
        self.r1 = self.r2 * (self.oldest + 1) * changes + 1

        # People with identical attributes and mode are one "type": bounds and
        # candidate lists work per type, which is what makes 100,000 people cheap.
        signature = np.vstack([self.codes, self.site, self.virtual, self.in_person]).T
        _, self.type_of, self.type_count = np.unique(
            signature, axis=0, return_inverse=True, return_counts=True
        )
        self.type_of = self.type_of.ravel()
        self.type_first = np.zeros(len(self.type_count), dtype=np.int64)
        self.type_first[self.type_of[::-1]] = np.arange(n)[::-1]
        self._dense: dict[str, np.ndarray] = {}
        self._plans: dict[bytes, tuple[int, np.ndarray] | None] = {}

    # -- pieces of the objective ------------------------------------------------
    def mixing(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Mixing points of each pair (i[k], j[k])."""
        ci, cj = self.codes[:, i], self.codes[:, j]
        differs = (ci != cj) & (ci >= 0) & (cj >= 0)
        return np.tensordot(self.weights, differs.astype(np.int64), axes=1)

    def compatible(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether the meeting modes of each pair allow them to meet."""
        both_virtual = self.virtual[i] & self.virtual[j]
        same_place = self.in_person[i] & self.in_person[j] & (self.site[i] == self.site[j])
        return both_virtual | same_place

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether each pair may share a group (hard rules)."""
        return self.compatible(i, j) & (i != j) & (self.avoid.lookup(i, j) == 0)

    def last_met(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Rounds since each pair last met (0: never)."""
        return self.met.lookup(i, j)

    def penalty(self, age: np.ndarray) -> np.ndarray:
        """What a repeat costs: recent repeats more than old ones; 0 for new pairs."""
        return np.where(age > 0, self.r1 + self.r2 * (self.oldest + 1 - age), 0)

    def weight(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The combined objective of each pair, ``FORBIDDEN`` where rules forbid it."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        if "type_weight" not in self._dense:
            mix, comp = self.type_mixing()
            self._dense["type_weight"] = np.where(comp, mix, FORBIDDEN)
        w = self._dense["type_weight"][self.type_of[i], self.type_of[j]]
        if self.met.keys.size:
            w = w - np.where(w > FORBIDDEN, self.penalty(self.last_met(i, j)), 0)
        if self.avoid.keys.size:
            w = np.where(self.avoid.lookup(i, j) > 0, FORBIDDEN, w)
        return np.where(i == j, FORBIDDEN, w)

    def dense(self, what: str = "weight") -> np.ndarray:
        """The full n×n matrix of ``weight`` or ``mixing``; only for small n.

        Built per type and then corrected for the few pairs with a history or
        on the avoid list, which is far quicker than pair by pair.
        """
        if what in self._dense:
            return self._dense[what]
        mix, comp = self.type_mixing()
        t = self.type_of
        mixing = mix[t[:, None], t[None, :]]
        if what == "mixing":
            self._dense[what] = mixing
            return mixing
        values = np.where(comp[t[:, None], t[None, :]], mixing, FORBIDDEN)
        np.fill_diagonal(values, FORBIDDEN)
        if self.met.keys.size:
            i, j = np.divmod(self.met.keys, self.n)
            values[i, j] -= np.where(values[i, j] > FORBIDDEN, self.penalty(self.met.values), 0)
            values[j, i] = values[i, j]
        if self.avoid.keys.size:
            i, j = np.divmod(self.avoid.keys, self.n)
            values[i, j] = values[j, i] = FORBIDDEN
        self._dense[what] = values
        return values

    def dense_ages(self) -> np.ndarray:
        """n×n matrix of rounds since each pair last met (0: never)."""
        ages = np.zeros((self.n, self.n), dtype=np.int64)
        if self.met.keys.size:
            i, j = np.divmod(self.met.keys, self.n)
            ages[i, j] = ages[j, i] = self.met.values
        return ages

    # -- per type ---------------------------------------------------------------
    def type_mixing(self) -> tuple[np.ndarray, np.ndarray]:
        """Mixing points and compatibility between every two types (T×T)."""
        if "type_mixing" not in self._dense:
            reps = self.type_first
            i, j = np.meshgrid(reps, reps, indexing="ij")
            self._dense["type_mixing"] = self.mixing(i, j)
            self._dense["type_compatible"] = self.compatible(i, j)
        return self._dense["type_mixing"], self._dense["type_compatible"]

    def type_plan(
        self, counts: np.ndarray | None = None, extra: np.ndarray | None = None
    ) -> tuple[int, np.ndarray] | None:
        """The assignment relaxation per type (see :func:`solvers.bounds.type_assignment`)
        for these type ``counts`` (default: everyone); cached."""
        counts = self.type_count if counts is None else counts
        key = counts.tobytes() + (b"" if extra is None else b"|" + extra.tobytes())
        if key not in self._plans:
            mix, comp = self.type_mixing()
            self._plans[key] = type_assignment(mix, comp, counts, extra)
        return self._plans[key]

    def type_bound(self, extra: np.ndarray | None = None) -> int | None:
        """Upper bound on a round's mixing points, from :meth:`type_plan`."""
        plan = self.type_plan(extra=extra)
        return None if plan is None else plan[0]

    def best_partner_mixing(self, k: int = 1) -> np.ndarray:
        """For each person, the sum of the ``k`` largest mixing points they could
        score with distinct compatible others (ignoring history and the avoid list,
        so this is an upper bound)."""
        mix, comp = self.type_mixing()
        t = len(self.type_count)
        out_type = np.zeros(t, dtype=np.int64)
        for a in range(t):
            counts = self.type_count.copy()
            counts[a] -= 1  # not oneself
            ok = comp[a] & (counts > 0)
            values = mix[a][ok]
            avail = counts[ok]
            order = np.argsort(-values, kind="stable")
            need, total = k, 0
            for v, c in zip(values[order], avail[order], strict=True):
                take = min(need, int(c))
                total += take * int(v)
                need -= take
                if need == 0:
                    break
            out_type[a] = total
        return out_type[self.type_of]
