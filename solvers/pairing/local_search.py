"""The local search for groups: starting points, and swaps between groups
(numpy)."""

from __future__ import annotations

import time

import numpy as np

from solvers.pairing.limits import GAP_TOLERANCE
from solvers.scoring import FORBIDDEN, Scorer


def _local_search(
    members, weight, rng, deadline, target, stall=400, bench=None, sit_out_rule=None
) -> np.ndarray:
    """Swap people between random pairs of groups while that improves the plan.

    Each step pairs up all groups at once (poorly scoring groups first, each
    with a random partner group), tries one swap per couple of groups, and
    keeps those that do not make things worse: a vectorised 2-opt for pairs.
    Row ``bench``, if given, holds who sits out: it scores nothing, never lets
    go of those who must sit out and takes in only those who may (the masks of
    ``sit_out_rule``), so the search also chooses among them.
    """
    groups, width = members.shape
    if groups < 2:
        return members
    valid = members >= 0
    sizes = valid.sum(axis=1)
    totals = _group_totals(members, valid, weight, bench)
    current = int(totals.sum())
    since_better = 0
    step = 0
    while time.perf_counter() < deadline and since_better < stall:
        if target is not None and current >= target - GAP_TOLERANCE * abs(target):
            break
        step += 1
        if step % 2:
            order = rng.permutation(groups)
        else:  # weakest groups first, each meeting a random partner group
            if step % 16 == 0:
                totals = _group_totals(members, valid, weight, bench)
            order = np.lexsort((rng.random(groups), totals))
            half = groups // 2
            weak, rest = order[:half], rng.permutation(order[half:])
            order = np.empty(2 * half, dtype=np.int64)
            order[0::2], order[1::2] = weak, rest[:half]
        couples = len(order) // 2
        g1, g2 = order[0 : 2 * couples : 2], order[1 : 2 * couples : 2]
        s1 = (rng.random(couples) * sizes[g1]).astype(np.int64)
        s2 = (rng.random(couples) * sizes[g2]).astype(np.int64)
        i, j = members[g1, s1], members[g2, s2]
        m1, m2 = members[g1], members[g2]
        mask1 = valid[g1] & (m1 != i[:, None])
        mask2 = valid[g2] & (m2 != j[:, None])
        safe1, safe2 = np.where(mask1, m1, 0), np.where(mask2, m2, 0)
        stay_i = np.where(mask1, weight(i[:, None], safe1), 0).sum(axis=1)
        move_i = np.where(mask2, weight(i[:, None], safe2), 0).sum(axis=1)
        stay_j = np.where(mask2, weight(j[:, None], safe2), 0).sum(axis=1)
        move_j = np.where(mask1, weight(j[:, None], safe1), 0).sum(axis=1)
        if bench is not None:
            must, may = sit_out_rule
            for group, stay, enter, leaving, incoming in (
                (g1, stay_i, move_j, i, j), (g2, stay_j, move_i, j, i)
            ):
                on = group == bench
                stay[on] = np.where(must[leaving[on]], -FORBIDDEN, 0)
                enter[on] = np.where(may[incoming[on]], 0, FORBIDDEN)
        delta = move_i + move_j - stay_i - stay_j
        accept = (delta > 0) | ((delta == 0) & (rng.random(couples) < 0.3))
        members[g1[accept], s1[accept]] = j[accept]
        members[g2[accept], s2[accept]] = i[accept]
        totals[g1[accept]] += (move_j - stay_i)[accept]
        totals[g2[accept]] += (move_i - stay_j)[accept]
        gained = int(delta[accept].sum())
        current += gained
        since_better = 0 if gained > 0 else since_better + 1
    return members


def _group_totals(members, valid, weight, bench=None) -> np.ndarray:
    groups, width = members.shape
    total = np.zeros(groups, dtype=np.int64)
    for a in range(width):
        for b in range(a + 1, width):
            both = valid[:, a] & valid[:, b]
            ia = np.where(both, members[:, a], 0)
            ib = np.where(both, members[:, b], 1)
            total += np.where(both, weight(ia, ib), 0)
    if bench is not None:
        total[bench] = 0
    return total


def _pooled_start(scorer: Scorer, seated: np.ndarray, sizes: list[int], rng) -> np.ndarray:
    """A good first plan: compatible groups, departments dealt apart.

    People who meet only in person form a pool per site, topped up with people
    from that site who accept either mode; everyone left accepts online
    meetings, so any group of them is compatible. Within a pool, people sorted
    by department (then site and role) are dealt round the groups, so that for
    pairs, position ``k`` meets position ``k + m/2``: different departments
    whenever no department holds half the pool.
    """
    width = max(sizes) if sizes else 0
    members = np.full((len(sizes), width), -1, dtype=np.int64)
    if not sizes:
        return members
    size = min(sizes)
    in_person_only = ~scorer.virtual[seated]
    either = scorer.virtual[seated] & scorer.in_person[seated]
    taken = np.zeros(len(seated), dtype=bool)
    chunks = []
    for site in np.unique(scorer.site[seated][in_person_only]):
        here = scorer.site[seated] == site
        pool = np.nonzero(in_person_only & here)[0]
        spare = rng.permutation(np.nonzero(either & here & ~taken)[0])
        pool = np.concatenate([pool, spare[: (-len(pool)) % size]])
        taken[pool] = True
        chunks.append(_dealt(scorer, seated[pool], size, rng))
    chunks.append(_dealt(scorer, seated[~taken], size, rng))
    order = np.concatenate(chunks)
    # Enlarged groups last: the final pool (all online-capable) absorbs them.
    start = 0
    for g, k in enumerate(sorted(sizes)):
        members[g, :k] = order[start : start + k]
        start += k
    return members


def _dealt(scorer: Scorer, pool: np.ndarray, size: int, rng) -> np.ndarray:
    """The pool in an order whose consecutive runs of ``size`` mix departments."""
    if len(pool) == 0:
        return pool
    codes = scorer.codes[:, pool]
    ranked = pool[np.lexsort((rng.random(len(pool)), codes[3], codes[2], codes[1], codes[0]))]
    groups = max(1, len(pool) // size)
    group_of = np.arange(len(pool)) % groups
    return ranked[np.argsort(group_of, kind="stable")]


def _type_start(scorer: Scorer, seated: np.ndarray, flow: np.ndarray, rng) -> np.ndarray:
    """Pairs that follow the type-level relaxation: ``flow[t, u]`` people of type
    ``t`` sent to type ``u`` become about ``(flow[t, u] + flow[u, t]) / 2`` pairs.

    People are drawn at random within their type; the few left by rounding
    are paired by :func:`_pooled_start`, and the local search then mends
    repeats and avoid-list pairs (rare when drawing at random).
    """
    t = len(scorer.type_count)
    both = flow + flow.T
    across = np.triu(both, 1) // 2
    within = np.diag(both) // 4
    kinds = scorer.type_of[seated]
    pool = seated[np.lexsort((rng.random(len(seated)), kinds))]
    start = np.concatenate([[0], np.cumsum(np.bincount(kinds, minlength=t))])
    used = np.zeros(t, dtype=np.int64)

    def draw(kind: int, count: int) -> np.ndarray:
        first = start[kind] + used[kind]
        used[kind] += count
        return pool[first : first + count]

    pairs = []
    for a, b in zip(*np.nonzero(across), strict=True):
        k = int(across[a, b])
        pairs.append(np.column_stack([draw(a, k), draw(b, k)]))
    for a in np.nonzero(within)[0]:
        k = int(within[a])
        pairs.append(draw(a, 2 * k).reshape(k, 2))
    left = np.concatenate([pool[start[a] + used[a] : start[a + 1]] for a in range(t)])
    if len(left):
        pairs.append(_pooled_start(scorer, left, [2] * (len(left) // 2), rng))
    return np.vstack(pairs)

