"""A lower bound on the repeats of any café plan: the meetings the tables,
the rules and the history force.

Notation. ``R`` rounds are still to play; every round seats all ``n`` people
at ``T`` tables of fixed sizes ``s_t`` (:func:`~solvers.rotation.problem.table_sizes`:
``s`` or ``s + 1``). Two people *may meet* if the rules let them share a table
(meeting modes and sites, the avoid list) and they are not two hosts (hosts
keep distinct tables). ``N[i]`` is ``i`` and everyone who may meet ``i``. A
pair is *fresh* if it may meet and has not met before. In a plan, ``m_p`` is
how often pair ``p`` shares a table in the new rounds and ``b_p`` is 1 if it
met before; its repeats are ``rep_p = max(0, m_p + b_p - 1)``, as the
engine counts them (a pair meeting ``k`` times in this café counts ``k - 1``,
``k`` if it met before).

The key inequality: in every plan that keeps the rules,

    rep_p >= m_p - f_p,   f_p = 1 if p is fresh, else 0,          (1)

since a pair that met before repeats at each meeting, a fresh pair at all but
its first, and a pair that may not meet has ``m_p = 0``.

The bounds below follow from it.

**Confined groups.** Take a set ``S`` of people and ``C = {c : N[c] ⊆ S}``,
those whose every possible table-mate is in ``S``. In any round, a table
seating someone of ``C`` is made of people of ``S`` only. If ``x_t`` people of
``S`` sit at table ``t`` the round seats ``Σ_t C(x_t, 2)`` pairs inside ``S``,
with ``x_t = s_t`` on a set ``F`` of tables holding at least ``|C|`` seats,
``x_t <= s_t`` elsewhere and ``Σ x_t = |S|``. The least such count,
``P(S)``, is found by trying every number of large tables in ``F`` (with the
fewest small ones that make room for ``C``: a larger ``F`` only narrows the
choice) and spreading the others of ``S`` evenly over the tables left (the
cheapest way, ``C(x, 2)`` being convex; the sizes differ by at most one, so
the even spread fits). Summing (1) over the pairs inside ``S``,

    Σ_{p ⊆ S} rep_p >= R·P(S) - |fresh pairs inside S| =: v(S).        (2)

With ``S`` everyone this is the counting bound ``R·Σ_t C(s_t, 2) - |fresh|``
(0 for resolvable designs, whose rounds cover each pair once). With ``S = N[i]``
for an in-person participant whose site has few people, the table of ``i``
must be filled from ``N[i]`` every round: seven people of one site at tables
of six for four rounds give ``4·15 - 21 = 39``.

**Per person.** Summing (1) over the pairs of person ``i``: over the rounds
``i`` has at least ``R·(s_min - 1)`` table-mates, counted with repetition (a
host ``R·(s_t - 1)`` at table ``t``), and at most ``deg(i)`` (fresh pairs of
``i``) of those meetings are first meetings of fresh pairs, so ``rep_i = Σ_j rep_ij >= d_i :=
max(0, R·(s_min - 1) - deg(i))``. For disjoint sets ``S_1, …, S_k`` the pairs
inside each ``S_j`` are disjoint, and a pair with a person outside all of
them appears at most twice in ``Σ_{i outside} rep_i``, so

    repeats >= Σ_j v(S_j) + ½ Σ_{i in no S_j} d_i.                     (3)

The sets are chosen greedily (largest gain ``v(S) - ½ Σ_{i∈S} d_i`` first,
disjoint from those taken) among: everyone, the distinct ``N[i]`` (the
smallest first, at most :data:`MAX_GROUPS`) and the connected components of
the may-meet graph. With no set taken, (3) is the per-person bound the
engine used before; any choice gives a valid bound.

**Consecutive rounds.** Every meeting after a pair's first is a repeat, so
the repeats among a set ``W`` of people are at least ``Σ_{r>=2}`` (pairs of
``W`` seated together in round ``r`` and again in round ``r - 1``). If ``W``
can use at most ``k`` tables in a round, a table of round ``r`` seating ``w``
of them took them from at most ``k`` tables of round ``r - 1``, so at least
``E(w, k)`` of their pairs met in both (pigeonhole; ``E(m, k)`` is the pairs of
``m`` people spread evenly over ``k`` tables). ``E`` is convex in ``w``, so the
least total is ``W`` spread evenly over the ``k`` largest tables:

    Σ_{p ⊆ W} rep_p >= (R - 1)·Σ_t E(w_t, k).                          (4)

With ``W`` everyone and ``k = T`` it is positive when tables seat more
people than there are tables (12 people at 3 tables of 4 meet somebody again
in every round after the first: no two rounds of such a social golfer
schedule are disjoint). Taking ``W`` as everyone outside disjoint groups
``S_j`` chosen for (2), and ``k`` as the tables left when each ``S_j`` fills
the fewest tables that seat its confined people (nobody else can sit there),

    repeats >= Σ_j v(S_j) + (R - 1)·Σ_t E(w_t, k).                      (5)

Seven people of one site and 29 online at six tables of six for four rounds:
the site fills one table (39 repeats), and the 29 share five tables, four of
them seating six, so each round after the first repeats at least four more
pairs: 39 + 3·4 = 51.

Each is a valid lower bound; :func:`repeats_bound` returns the largest, and a
plan that reaches it is optimal. The cost is two matrix products over at
most :data:`MAX_GROUPS` sets and the components (numpy): 10–30 ms for 1,000
people (``python -m benchmarks.rotation_bounds``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_GROUPS", "bound_parts", "repeats_bound"]

#: Distinct neighbourhoods tried as confined groups (the smallest first):
#: large ones hold many fresh pairs and bind only through the counting bound.
MAX_GROUPS = 64


def _pairs(x):
    return x * (x - 1) // 2


def _even(people: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Pairs of ``people`` spread as evenly as possible over ``tables``
    (``tables == 0`` holds only nobody; elsewhere -1 marks impossible)."""
    k = np.maximum(tables, 1)
    q, rem = np.divmod(people, k)
    pairs = rem * _pairs(q + 1) + (k - rem) * _pairs(q)
    return np.where((tables == 0) & (people > 0), -1, pairs)


def least_pairs(members: np.ndarray, confined: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``P(S)`` of the module docstring for each set: the fewest pairs inside
    a set of ``members`` people a round can seat when ``confined`` of them sit
    only at tables made of the set. -1 where no round can (no plan exists)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    small = int(sizes.min())
    big = small + 1
    n_big = int((sizes == big).sum())
    n_small = len(sizes) - n_big
    m = np.asarray(members, dtype=np.int64)[:, None]
    c = np.asarray(confined, dtype=np.int64)[:, None]
    f_big = np.arange(n_big + 1, dtype=np.int64)[None, :]
    f_small = np.maximum(0, -(-(c - f_big * big) // small))
    seats = f_big * big + f_small * small
    spread = _even(m - seats, len(sizes) - f_big - f_small)
    pairs = f_big * _pairs(big) + f_small * _pairs(small) + spread
    ok = (f_small <= n_small) & (seats <= m) & (spread >= 0)
    least = np.where(ok, pairs, np.iinfo(np.int64).max).min(axis=1)
    return np.where(ok.any(axis=1), least, -1)


def bound_parts(may_meet: np.ndarray, met_before: np.ndarray, sizes, rounds: int,
                host_table: np.ndarray) -> dict[str, int]:
    """The bounds of the module docstring, by name.

    ``may_meet[i, j]``: the rules let ``i`` and ``j`` share a table (hosts
    aside: two hosts are excluded here); ``met_before[i, j]``: they met before;
    ``sizes``: the table sizes; ``host_table[i]``: the table (0-based) ``i``
    hosts, -1 for none. Keys: ``per_person`` ((3) with no group),
    ``counting`` ((2) with everyone as the group), ``groups`` ((3) with the
    greedy choice of groups) and ``rounds`` ((5), which is (4) when no group
    is chosen)."""
    n = len(may_meet)
    sizes = np.asarray(sizes, dtype=np.int64)
    parts = dict.fromkeys(("per_person", "counting", "groups", "rounds"), 0)
    if rounds <= 0 or n < 2:
        return parts
    hosts = np.asarray(host_table) >= 0
    meet = np.asarray(may_meet, dtype=bool) & ~(hosts[:, None] & hosts[None, :])
    meet = meet & meet.T
    np.fill_diagonal(meet, False)
    fresh = meet & ~np.asarray(met_before, dtype=bool)
    degree = fresh.sum(axis=1).astype(np.int64)
    slots = np.where(hosts, sizes[np.maximum(host_table, 0)] - 1, sizes.min() - 1) * rounds
    deficit = np.maximum(slots - degree, 0)
    parts["per_person"] = int(-(-int(deficit.sum()) // 2))
    parts["counting"] = max(0, rounds * int(_pairs(sizes).sum()) - int(degree.sum()) // 2)

    # Candidate groups: the distinct closed neighbourhoods, smallest first, and
    # the components of the may-meet graph; everyone is the counting bound.
    closed = meet | np.eye(n, dtype=bool)
    size = closed.sum(axis=1)
    first = _distinct_rows(closed)
    first = first[np.argsort(size[first], kind="stable")]
    groups = [closed[i] for i in first[:MAX_GROUPS] if size[i] < n]
    groups += _components(closed)
    members = np.array(groups, dtype=bool).reshape(-1, n)
    if len(members):
        u = np.ascontiguousarray(members.T, dtype=np.float32)  # n × groups
        inside = np.rint(((fresh.astype(np.float32) @ u) * u).sum(axis=0) / 2).astype(np.int64)
        # c is confined to a group when its neighbourhood leaves none of it out.
        outside = closed.astype(np.float32) @ (~members).T.astype(np.float32)
        confined = (outside == 0).sum(axis=0)
        least = least_pairs(members.sum(axis=1), confined, sizes)
        value = np.where(least >= 0, np.maximum(rounds * least - inside, 0), 0)
    else:
        value = np.zeros(0, dtype=np.int64)
    # Tables a group's confined people fill alone every round (the largest first).
    seats = np.concatenate([[0], np.cumsum(np.sort(sizes)[::-1])])
    filled = np.searchsorted(seats, confined if len(members) else np.zeros(0, int))
    # (3): disjoint groups by gain over the per-person bound, in half-repeats.
    gain2 = 2 * value - members.astype(np.int64) @ deficit
    taken = _pack(members, gain2)
    parts["groups"] = max(-(-(int(deficit.sum()) + int(gain2[taken].sum())) // 2),
                          parts["counting"])
    # (5): disjoint groups by value, and consecutive rounds for everyone else,
    # who cannot sit at the tables those groups fill; or (4) for everyone.
    taken = _pack(members, value)
    rest = n - int(members[taken].sum())
    free = len(sizes) - int(filled[taken].sum())
    parts["rounds"] = max(int(value[taken].sum()) + (rounds - 1) * _overlap(rest, free, sizes),
                          (rounds - 1) * _overlap(n, len(sizes), sizes))
    return parts


def _distinct_rows(matrix: np.ndarray) -> np.ndarray:
    """Indices of rows with distinct contents (by a hash of their bits: a
    collision only drops a candidate group, which keeps the bound valid)."""
    packed = np.packbits(matrix, axis=1)
    pad = (-packed.shape[1]) % 8
    words = np.pad(packed, ((0, 0), (0, pad))).view(np.uint64)
    mix = np.random.default_rng(0).integers(1, 2**63, words.shape[1], dtype=np.uint64) | 1
    with np.errstate(over="ignore"):
        digest = (words * mix).sum(axis=1)
    return np.unique(digest, return_index=True)[1]


def _components(closed: np.ndarray) -> list[np.ndarray]:
    """The connected components of the may-meet graph, if there are several
    (at most :data:`MAX_GROUPS` of them, by breadth-first growth)."""
    unseen = np.ones(len(closed), dtype=bool)
    found: list[np.ndarray] = []
    while unseen.any() and len(found) < MAX_GROUPS:
        part = closed[int(np.argmax(unseen))].copy()
        while True:
            grown = closed[part].any(axis=0)
            if (grown == part).all():
                break
            part = grown
        if not found and part.all():
            return []
        found.append(part)
        unseen &= ~part
    return found


def _pack(members: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Disjoint sets of positive gain, greedily (largest first): their indices."""
    taken = np.zeros(members.shape[1], dtype=bool)
    chosen = []
    for k in np.argsort(-gain, kind="stable"):
        if gain[k] <= 0:
            break
        if not (taken & members[k]).any():
            taken |= members[k]
            chosen.append(k)
    return np.array(chosen, dtype=np.int64)


def _overlap(people: int, tables: int, sizes: np.ndarray) -> int:
    """The fewest pairs of ``people`` who sit together in two consecutive rounds
    when they may use only ``tables`` tables (the largest, spread evenly: the
    pairs a table of ``w`` of them must repeat, ``E(w, tables)``, are convex in
    ``w``). 0 if they do not fit (no plan exists)."""
    if people < 2 or tables <= 0:
        return 0
    room = np.sort(sizes)[::-1][:tables]
    if people > room.sum():
        return 0
    q, rem = divmod(people, tables)
    spread = np.full(tables, q, dtype=np.int64)
    spread[:rem] += 1
    return int(_even(spread, np.full(tables, tables)).sum())


def repeats_bound(may_meet: np.ndarray, met_before: np.ndarray, sizes, rounds: int,
                  host_table: np.ndarray) -> int:
    """A lower bound on the repeats of any plan of ``rounds`` rounds that keeps
    the rules (the largest of :func:`bound_parts`; see the module docstring)."""
    return max(bound_parts(may_meet, met_before, sizes, rounds, host_table).values())
