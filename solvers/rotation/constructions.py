"""Repeat-free plans by construction: the parallel classes of an affine plane
of prime order, partial spreads of GF(p)^m, and two stored resolvable designs
(21 people at 7 tables of 3, 40 at 10 tables of 4) (docs in
:mod:`solvers.rotation`)."""

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



def _kirkman_21() -> list[list[tuple[int, ...]]]:
    """The ten parallel classes of a Kirkman triple system of order 21.

    Points ``(x, j)`` of Z_7 × {0, 1, 2} (index ``7j + x``); Z_7 acts on
    ``x``. Three classes are fixed by it, each the orbit of a transversal
    triple {(0, 0), (b, 1), (c, 2)} with (b, c) = (0, 0), (1, 2), (2, 5); the
    other seven are the translates of one class ``B`` whose pairs take every
    difference within a level once and every difference between two levels
    the fixed classes leave out once, so every pair meets exactly once (a
    KTS(21) exists by Ray-Chaudhuri and Wilson, "Solution of Kirkman's
    schoolgirl problem", Proc. Symp. Pure Math. 19 (1971); this one was
    found by a search over that structure, and is checked by the tests).
    """
    def point(x: int, j: int) -> int:
        return 7 * j + x % 7

    classes = [[(point(t, 0), point(t + b, 1), point(t + c, 2)) for t in range(7)]
               for b, c in ((0, 0), (1, 2), (2, 5))]
    base = [((0, 0), (1, 0), (3, 0)), ((2, 0), (0, 1), (6, 2)), ((4, 0), (1, 1), (3, 2)),
            ((5, 0), (4, 1), (1, 2)), ((6, 0), (2, 1), (0, 2)), ((3, 1), (5, 1), (6, 1)),
            ((2, 2), (4, 2), (5, 2))]
    for s in range(7):
        classes.append([tuple(point(x + s, j) for x, j in block) for block in base])
    return classes


def _rotational_40() -> list[list[tuple[int, ...]]]:
    """The thirteen parallel classes of a resolvable 2-(40, 4, 1) design.

    Such designs exist for every v ≡ 4 (mod 12) (Hanani, Ray-Chaudhuri and
    Wilson, "On resolvable designs", Discrete Math. 3 (1972) 343–357). This
    one is 1-rotational: points Z_39 ∪ {∞} (∞ is 39), one base class made of
    {∞, 0, 13, 26} and the blocks {1, 5, 8, 25}, {2, 3, 11, 36},
    {4, 6, 22, 33} shifted by 0, 13 and 26, and the classes its 13
    translates. The three blocks' differences take every nonzero value of
    Z_39 but ±13 once, up to sign, and their residues mod 13 are 1..12 once,
    so each class is a partition and every pair meets exactly once (found by
    a search over that structure; checked by the tests).
    """
    shifts = (0, 13, 26)
    base = [(39, 0, 13, 26)] + [tuple((x + h) % 39 for x in block)
                                for block in ((1, 5, 8, 25), (2, 3, 11, 36), (4, 6, 22, 33))
                                for h in shifts]
    return [[tuple(x if x == 39 else (x + i) % 39 for x in block) for block in base]
            for i in range(13)]


#: Resolvable designs by (people, tables): their parallel classes.
_DESIGNS = {(21, 7): _kirkman_21, (40, 10): _rotational_40}


def _resolvable_design(engine: _Engine) -> np.ndarray | None:
    """Repeat-free rounds from a stored resolvable design, if one fits.

    Needs the design's people and tables, no more rounds than it has classes
    (one fewer with hosts, at most a table's size of them: the hosts are the
    points of one block of the class left out, so no two ever share a table),
    and no history, played rounds or avoid list, as for the affine plane.
    """
    n, tables, rounds = engine.n, engine.tables, engine.new_rounds
    make = _DESIGNS.get((n, tables))
    if make is None or engine.met_before.any() or engine.forbidden.any():
        return None
    classes = make()
    hosts = np.nonzero(engine.host_table >= 0)[0]
    if rounds > len(classes) - (1 if len(hosts) else 0) or len(hosts) > n // tables:
        return None
    order = [int(c) for c in engine.rng.permutation(len(classes))]
    point_of = np.full(n, -1, dtype=np.int64)
    if len(hosts):
        left_out = classes[order.pop()]
        block = left_out[int(engine.rng.integers(len(left_out)))]
        point_of[hosts] = block[: len(hosts)]
    free = np.setdiff1d(np.arange(n), point_of[hosts])
    others = np.nonzero(point_of < 0)[0]
    point_of[others] = engine.rng.permutation(free)
    seat = np.zeros((rounds, n), dtype=np.int64)
    for r in range(rounds):
        block_of = np.zeros(n, dtype=np.int64)
        for b, block in enumerate(classes[order[r]]):
            block_of[list(block)] = b
        lines = block_of[point_of]
        table_of_block = np.full(tables, -1, dtype=np.int64)
        table_of_block[lines[hosts]] = engine.host_table[hosts]
        table_of_block[table_of_block < 0] = sorted(
            set(range(tables)) - set(engine.host_table[hosts].tolist()))
        seat[r] = table_of_block[lines]
    return seat
