"""Repeat-free plans by construction: the parallel classes of an affine plane
of prime order, and partial spreads of GF(p)^m (docs in :mod:`solvers.rotation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from solvers.rotation.engine import _Engine


def _affine_plane(engine: _Engine) -> np.ndarray | None:
    """Repeat-free rounds from the affine plane of prime order q, if they fit.

    Needs n = q² people at q tables of q, at most q + 1 rounds (q with hosts:
    the hosts are the points of one line of the class left out, so no two of
    them ever share a table), and no history, played rounds or avoid list.
    """
    n, tables, rounds = engine.n, engine.tables, engine.new_rounds
    q = tables
    hosts = np.nonzero(engine.host_table >= 0)[0]
    if (q * q != n or q < 2 or any(q % d == 0 for d in range(2, int(q**0.5) + 1))
            or rounds > q + (0 if len(hosts) else 1)
            or engine.met_before.any() or engine.forbidden.any()):
        return None
    # Points (x, y) of GF(q)²; class m < q: lines y = m·x + c; class q: x = c.
    xs, ys = np.divmod(np.arange(n), q)

    def line_of(m: int) -> np.ndarray:
        return xs if m == q else (ys - m * xs) % q

    classes = list(engine.rng.permutation(q + 1))
    if len(hosts):
        # Leave out class q (lines x = c); hosts are the points of x = 0, i.e. y = 0..q-1.
        classes = [m for m in classes if m != q]
        host_points = np.arange(q)  # (0, y): index y
        # Relabel: host h goes to point (0, table of h).
        point_of = np.full(n, -1, dtype=np.int64)
        for h in hosts:
            point_of[h] = host_points[engine.host_table[h]]
        rest = [p for p in range(n) if p not in set(host_points[engine.host_table[hosts]])]
        others = np.nonzero(point_of < 0)[0]
        point_of[others] = engine.rng.permutation(rest)[: len(others)]
    else:
        point_of = engine.rng.permutation(n)
    seat = np.zeros((rounds, n), dtype=np.int64)
    for r in range(rounds):
        lines = line_of(int(classes[r]))[point_of]
        if len(hosts):
            # Number tables by the host on each line: host h's line is table host_table[h].
            table_of_line = np.full(q, -1, dtype=np.int64)
            table_of_line[lines[hosts]] = engine.host_table[hosts]
            spare = sorted(set(range(q)) - set(engine.host_table[hosts].tolist()))
            table_of_line[table_of_line < 0] = spare
            seat[r] = table_of_line[lines]
        else:
            seat[r] = lines
    return seat


def _prime_power(n: int) -> tuple[int, int] | None:
    """(p, m) with n = p**m and p prime, else None."""
    for p in range(2, n + 1):
        if n % p == 0:
            m = 0
            while n % p == 0:
                n //= p
                m += 1
            return (p, m) if n == 1 else None
    return None


def _subspace_plan(engine: _Engine, tries: int = 400) -> np.ndarray | None:
    """Repeat-free rounds from a partial spread of GF(p)^m, if it has enough.

    With n = p^m people at tables of p^k, the cosets of a k-dimensional
    subspace V partition the people into tables; two subspaces that share only
    0 never seat the same two people together. So a set of such subspaces (a
    partial spread, found here by randomised greedy search) gives as many
    repeat-free rounds: 9 for 8 tables of 4 (the most GF(2)^5 allows), 13 for
    9 tables of 3, 21 for 16 tables of 4. No hosts, history or avoid list.
    """
    n, tables, rounds = engine.n, engine.tables, engine.new_rounds
    if (n % tables or n > 4096 or (engine.host_table >= 0).any()
            or engine.met_before.any() or engine.forbidden.any()):
        return None
    size = n // tables
    whole, part = _prime_power(n), _prime_power(size)
    if whole is None or part is None or whole[0] != part[0] or size == 1:
        return None
    p, m = whole
    k = part[1]
    digits = np.array([[(x // p**i) % p for i in range(m)] for x in range(n)], dtype=np.int64)
    weights = p ** np.arange(m)

    def span(basis: list[int]) -> set[int]:
        points = {0}
        for b in basis:
            points = {int(((digits[x] + c * digits[b]) % p) @ weights)
                      for x in points for c in range(p)}
        return points

    rng = engine.rng
    best: list[set[int]] = []
    for _ in range(tries):
        used, spread = {0}, []
        while len(spread) < rounds:
            found = None
            for first in rng.permutation(np.arange(1, n)):
                if int(first) in used:
                    continue
                basis, space = [int(first)], span([int(first)])
                while len(basis) < k and not (space - {0}) & used:
                    for v in rng.permutation(np.arange(1, n)):
                        if int(v) in used or int(v) in space:
                            continue
                        wider = span(basis + [int(v)])
                        if not (wider - {0}) & used:
                            basis, space = basis + [int(v)], wider
                            break
                    else:
                        break
                if len(basis) == k and not (space - {0}) & used:
                    found = space
                    break
            if found is None:
                break
            spread.append(found)
            used |= found
        if len(spread) > len(best):
            best = spread
        if len(best) >= rounds:
            break
    if len(best) < rounds:
        return None
    person_at = rng.permutation(n)  # person_at[x]: who sits at point x
    seat = np.zeros((rounds, n), dtype=np.int64)
    for r, space in enumerate(best[:rounds]):
        offsets = digits[sorted(space)]
        label: dict[int, int] = {}
        for x in range(n):
            coset = min(int(((digits[x] + o) % p) @ weights) for o in offsets)
            seat[r, person_at[x]] = label.setdefault(coset, len(label))
    return seat

