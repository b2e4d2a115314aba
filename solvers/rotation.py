"""Knowledge-café table rotations: who sits at which table in each round.

A café is a generalised social golfer problem: ``tables`` tables whose sizes
differ by at most one, ``rounds`` rounds, every pair sharing a table counts as
meeting. The objective follows docs/matching.md: first as few repeats as possible (two
people sharing a table again in this café, or who met before), then department
diversity at every table (then the other attributes, through the mixing
weights), then random among equals. Hosts stay at their table in every round.

Methods:

* **Affine plane** (q prime, q tables of q people, up to q + 1 rounds): the
  parallel classes of the affine plane of order q are repeat-free rounds by
  construction; hosts are placed by relabelling the points so each host's line
  is their table.
* **Partial spreads** (n = p^m people at tables of p^k, no hosts or
  history): each k-dimensional subspace of GF(p)^m seats people by its
  cosets, and subspaces meeting only in 0 never seat two people together
  twice; a randomised greedy search finds enough of them, e.g. 9 rounds for 8
  tables of 4 (the 8-4-9 social golfer problem) or 13 for 9 tables of 3.
* **Greedy then tabu search** otherwise: each round is built greedily (seat the
  person with the fewest options at the table where they add least conflict,
  after Triska & Musliu), then a tabu search swaps two people of different
  tables within one round (after Dotú & Van Hentenryck), moving the pair that
  improves the plan most, forbidding undoing a swap for a few steps, and
  stopping at once when the lower bound on repeats is reached and the
  department spread cannot improve.
* **Re-planning**: rounds already played are fixed (they count as history) and
  the remaining rounds are planned for whoever is present, tables kept.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .model import (
    FORBIDDEN,
    History,
    Infeasible,
    PastRound,
    Person,
    Problem,
    Weights,
    mixing_score,
    pair_key,
)
from .scoring import Scorer

__all__ = ["Cafe", "CafePlan", "CafeRound", "plan_cafe", "table_sizes"]

#: Steps for which a swap may not be repeated (drawn in this range).
TENURE = (5, 15)
#: Tabu steps per compiled call, between checks of the clock.
CHUNK = 2000
#: Chunks without a better plan before giving up: on repeats, on the spread.
REPEAT_PATIENCE = 500
QUALITY_PATIENCE = 5
#: People per round whose swaps are tried in a step once no conflict is left.
SAMPLE = 12


@dataclass(frozen=True)
class Cafe:
    """A café to plan.

    ``hosts`` maps a person's id to the table (1-based) they host in every
    round. ``fixed`` holds rounds already played, each a tuple of tables (table
    ``t`` at index ``t - 1``) of ids; people in them need not be in ``people``
    (they may have left). ``rounds`` counts all rounds, played ones included.
    """

    people: tuple[Person, ...]
    tables: int
    rounds: int
    hosts: Mapping[str, int] = field(default_factory=dict)
    history: History = field(default_factory=History)
    avoid: frozenset[tuple[str, str]] = frozenset()
    weights: Weights = field(default_factory=Weights)
    fixed: tuple[tuple[tuple[str, ...], ...], ...] = ()

    def __post_init__(self) -> None:
        ids = {p.id for p in self.people}
        if len(ids) != len(self.people):
            raise ValueError("person ids must be unique")
        if self.tables < 1:
            raise ValueError("there must be at least one table")
        if len(self.people) < self.tables:
            raise ValueError(
                f"{len(self.people)} people cannot fill {self.tables} tables"
            )
        if self.rounds < len(self.fixed):
            raise ValueError(f"rounds ({self.rounds}) is fewer than the rounds played "
                             f"({len(self.fixed)})")
        seen: dict[int, str] = {}
        for person, table in self.hosts.items():
            if person not in ids:
                raise ValueError(f"host {person} is not among the people")
            if not 1 <= table <= self.tables:
                raise ValueError(f"{person} hosts table {table}, but tables are 1–{self.tables}")
            if table in seen:
                raise ValueError(f"table {table} has two hosts: {seen[table]} and {person}")
            seen[table] = person
        for played in self.fixed:
            if len(played) > self.tables:
                raise ValueError("a played round has more tables than the café")
        object.__setattr__(self, "avoid", frozenset(pair_key(a, b) for a, b in self.avoid))


@dataclass(frozen=True)
class CafeRound:
    """One round: ``tables[t - 1]`` lists who sits at table ``t``."""

    tables: tuple[tuple[str, ...], ...]
    repeats: int
    departments_min: int
    departments_mean: float
    score: int
    played: bool = False


@dataclass(frozen=True)
class CafePlan:
    """A whole café: its rounds and the quality report.

    ``repeats_bound`` is a lower bound on the repeats of any plan of the
    rounds still to play, so ``repeats == repeats_bound`` proves the plan has
    the fewest repeats possible.
    """

    rounds: tuple[CafeRound, ...]
    repeats: int
    repeats_bound: int
    departments_min: int
    departments_mean: float
    score: int
    seconds: float
    method: str

    def as_dict(self) -> dict[str, object]:
        return {
            "repeats": self.repeats,
            "repeats_bound": self.repeats_bound,
            "departments_min": self.departments_min,
            "departments_mean": round(self.departments_mean, 3),
            "score": self.score,
            "seconds": round(self.seconds, 3),
            "method": self.method,
        }


def table_sizes(people: int, tables: int) -> list[int]:
    """Sizes of the tables: as equal as possible, the larger ones first.

    >>> table_sizes(10, 3)
    [4, 3, 3]
    """
    base, extra = divmod(people, tables)
    return [base + 1] * extra + [base] * (tables - extra)


def plan_cafe(
    cafe: Cafe,
    *,
    seed: int | None = None,
    time_limit: float = 30.0,
    steps: int | None = None,
    progress=None,
) -> CafePlan:
    """Plan the rounds of ``cafe`` still to play (see the module docstring).

    Parameters
    ----------
    cafe : Cafe
        People, tables, rounds, hosts, history, avoid list, weights and the
        rounds already played.
    seed : int, optional
        Makes the plan reproducible.
    time_limit : float
        Seconds for the search; it stops sooner once the plan is provably as
        good as it can be.
    steps : int, optional
        The most tabu steps the search may take. The search is then bounded by
        work: the same café and seed give the same plan on any machine, however
        busy, unless the time limit (now only a safety net) cuts it first.
    progress : callable, optional
        Called with a short line of text now and then.

    Returns
    -------
    CafePlan
        Every round's tables (played ones as they were), the repeats and their
        lower bound, the departments per table, the score, the seconds taken
        and the method that made it.

    Raises
    ------
    Infeasible
        If the avoid list cannot be kept (no plan exists, or none was found).

    Notes
    -----
    Where the numbers allow, a construction gives a plan with no repeat at
    once (affine planes and partial spreads: resolvable designs of the social
    golfer problem); otherwise each round is built greedily [2]_ and a tabu
    search swaps two people of different tables within a round [1]_, each
    step scoring every swap with numba kernels, until the lower bound on
    repeats is reached and the department spread cannot improve, or the
    budget (``steps``, else ``time_limit``) is spent. The repeats bound counts,
    per person, the meetings the tables force.

    References
    ----------
    .. [1] I. Dotú and P. Van Hentenryck, "Scheduling social golfers
       locally", CP-AI-OR 2005, LNCS 3524, 155–167.
    .. [2] M. Triska and N. Musliu, "An effective greedy heuristic for the
       Social Golfer Problem", Annals of Operations Research 194 (2012)
       413–425.

    Examples
    --------
    Nine people at three tables of three for four rounds: an affine plane of
    order 3, so nobody meets anyone twice.

    >>> from solvers.model import Person
    >>> people = tuple(Person(f"p{k}", "ABC"[k % 3]) for k in range(9))
    >>> plan = plan_cafe(Cafe(people, tables=3, rounds=4), seed=1, steps=2000)
    >>> plan.repeats, plan.repeats_bound, plan.method
    (0, 0, 'affine-plane')
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    engine = _Engine(cafe, rng)
    method = engine.construct()
    engine.search(started + time_limit, progress, steps)
    if engine.broken_rules():
        rule, stuck = engine.broken_people()
        what = {"mode": "meeting modes and sites", "avoid": "the avoid list"}[rule]
        raise Infeasible(rule, stuck, f"{what} could not be kept at every table for: "
                         + ", ".join(stuck))
    return engine.plan(time.perf_counter() - started, method)


class _Engine:
    """The state of one café plan under local search (indices, numpy arrays)."""

    def __init__(self, cafe: Cafe, rng: np.random.Generator):
        self.cafe = cafe
        self.rng = rng
        self.n = n = len(cafe.people)
        self.ids = [p.id for p in cafe.people]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        self.tables = cafe.tables
        self.sizes = np.array(table_sizes(n, cafe.tables))
        self.new_rounds = cafe.rounds - len(cafe.fixed)
        # Who met before: the history, then the rounds already played.
        history = cafe.history
        for played in cafe.fixed:
            history = history.then(_past(played))
        problem = Problem(cafe.people, history, cafe.avoid, cafe.weights)
        scorer = Scorer(problem, pairs_per_change=n)
        self.scorer = scorer
        ages = scorer.dense_ages() if n else np.zeros((0, 0), np.int64)
        self.met_before = (ages > 0).astype(np.int64)
        allowed = scorer.dense() > FORBIDDEN
        np.fill_diagonal(allowed, True)
        self.forbidden = (~allowed).astype(np.int64)
        np.fill_diagonal(self.forbidden, 0)
        # Table quality: departments first (a strict priority), then the rest.
        mixing = scorer.dense("mixing") if n else np.zeros((0, 0), np.int64)
        dept = scorer.codes[0]
        differ = ((dept[:, None] != dept[None, :]) & (dept[:, None] >= 0)).astype(np.int64)
        others = mixing - cafe.weights.department * differ
        self.other_scale = int(others.max(initial=0)) * int(self.sizes.max(initial=1)) * 4 + 1
        self.quality = differ * self.other_scale + others
        np.fill_diagonal(self.quality, 0)
        self.host_table = np.full(n, -1, dtype=np.int64)
        for pid, table in cafe.hosts.items():
            self.host_table[self.index[pid]] = table - 1
        # seat[r, i]: the table (0-based) of person i in new round r.
        self.seat = np.zeros((self.new_rounds, n), dtype=np.int64)
        self.meets = self.met_before.copy()

    # -- construction ---------------------------------------------------------------
    def construct(self) -> str:
        if self.new_rounds == 0 or self.n == 0:
            return "fixed"
        plane = _affine_plane(self)
        if plane is not None:
            self.seat[:] = plane
            self._recount()
            return "affine-plane"
        spread = _subspace_plan(self)
        if spread is not None:
            self.seat[:] = spread
            self._recount()
            return "finite-field"
        for r in range(self.new_rounds):
            self.seat[r] = self._greedy_round()
            self._add_round(r, +1)
        return "tabu-search"

    def _greedy_round(self) -> np.ndarray:
        """Seat everyone for one round: hosts first, then whoever has the fewest
        good tables left, at the table where they add the fewest repeats (after
        Triska & Musliu's greedy initialisation)."""
        n, tables = self.n, self.tables
        seat = np.full(n, -1, dtype=np.int64)
        free = self.sizes.copy()
        penalty = (self.meets + 1000 * self.forbidden).astype(np.float64)
        quality = self.quality.astype(np.float64)
        # clash[i, t]: repeats (and forbidden pairs) person i would add at table t;
        # spread[i, t]: the table quality they would add. Updated as people sit.
        clash = np.zeros((n, tables))
        spread = np.zeros((n, tables))

        def sit(i: int, t: int) -> None:
            seat[i] = t
            free[t] -= 1
            clash[:, t] += penalty[:, i]
            spread[:, t] += quality[:, i]

        for i in np.nonzero(self.host_table >= 0)[0]:
            sit(int(i), int(self.host_table[i]))
        order = self.rng.permutation(np.nonzero(seat < 0)[0])
        for i in order:
            key = np.where(free > 0, clash[i] * 10**9 - spread[i] + self.rng.random(tables),
                           np.inf)
            sit(int(i), int(np.argmin(key)))
        return seat

    # -- bookkeeping -------------------------------------------------------------------
    def _onehot(self, r: int) -> np.ndarray:
        x = np.zeros((self.n, self.tables), dtype=np.int64)
        x[np.arange(self.n), self.seat[r]] = 1
        return x

    def _groups(self, r: int) -> list[np.ndarray]:
        """The people (indices) at each table of new round ``r``."""
        order = np.argsort(self.seat[r], kind="stable")
        bounds = np.searchsorted(self.seat[r][order], np.arange(1, self.tables))
        return np.split(order, bounds)

    def _add_round(self, r: int, sign: int) -> None:
        for group in self._groups(r):
            self.meets[np.ix_(group, group)] += sign
        self.meets[np.arange(self.n), np.arange(self.n)] = self.met_before.diagonal()

    def _recount(self) -> None:
        self.meets = self.met_before.copy()
        for r in range(self.new_rounds):
            self._add_round(r, +1)

    def broken_rules(self) -> int:
        total = 0
        for r in range(self.new_rounds):
            for group in self._groups(r):
                total += int(self.forbidden[np.ix_(group, group)].sum()) // 2
        return total

    def broken_people(self) -> tuple[str, list[str]]:
        """The rule broken (``mode`` before ``avoid``) and the people concerned."""
        compatible = self.scorer.compatible
        by_rule: dict[str, set[str]] = {"mode": set(), "avoid": set()}
        for r in range(self.new_rounds):
            same = self.seat[r][:, None] == self.seat[r][None, :]
            for a, b in zip(*np.nonzero(same & (self.forbidden > 0)), strict=True):
                rule = "avoid" if compatible(np.array([a]), np.array([b]))[0] else "mode"
                by_rule[rule].update((self.ids[a], self.ids[b]))
        rule = "mode" if by_rule["mode"] else "avoid"
        return rule, sorted(by_rule[rule])

    # -- bounds ----------------------------------------------------------------------
    def repeats_bound(self) -> int:
        """Each person meets at least (smallest table − 1) people a round; beyond
        those present whom they may meet (meeting modes, sites, avoid list; two
        hosts never share a table) and have not met yet, every meeting is a repeat."""
        if self.new_rounds == 0 or self.n == 0:
            return 0
        least = int(self.sizes.min()) - 1
        hosts = self.host_table >= 0
        fresh = ((self.forbidden == 0) & (self.met_before == 0)
                 & ~(hosts[:, None] & hosts[None, :]))
        np.fill_diagonal(fresh, False)
        need = least * self.new_rounds
        return int(np.ceil(np.maximum(need - fresh.sum(axis=1), 0).sum() / 2))

    def departments_bound(self) -> float:
        """Most distinct departments a table can have on average in one round."""
        counts = np.bincount(self.scorer.codes[0][self.scorer.codes[0] >= 0])
        return min(float(np.minimum(counts, self.tables).sum()), float(self.n)) / self.tables

    # -- search ------------------------------------------------------------------------
    def search(self, deadline: float, progress, budget: int | None = None) -> None:
        """Tabu search over swaps of two people at different tables in one round.

        While there are repeats (or avoid-list clashes), only swaps that move
        someone in conflict are considered, as in Dotú & Van Hentenryck; the
        same two people are not swapped again in that round for a few steps,
        unless that beats the best plan. After many steps without progress the
        search restarts from the best plan with a few random swaps. It runs in
        compiled chunks (numba) and stops at the time limit, after ``budget``
        steps, when it stalls, or as soon as the plan meets both bounds
        (repeats and department spread). Chunks double in length up to
        :data:`CHUNK`, so where they end, and so the plan, depends on the
        clock only when the deadline is near.
        """
        if self.new_rounds == 0 or self.n < 2:
            return
        bound = self.repeats_bound()
        width = int(self.sizes.max())
        tables = np.full((self.new_rounds, self.tables, width), -1, dtype=np.int64)
        for r in range(self.new_rounds):
            for t in range(self.tables):
                members = np.nonzero(self.seat[r] == t)[0]
                tables[r, t, : len(members)] = members
        best_seat = self.seat.copy()
        state = np.zeros(8, dtype=np.int64)  # step, since_best, best f, best rep, best q
        tabu = np.zeros((self.new_rounds, self.n, self.n), dtype=np.int64)
        seed = int(self.rng.integers(2**31 - 1))
        movable = (self.host_table < 0).astype(np.int64)
        restart_after = 200 + 20 * self.n
        _kernel_init(self.seat, tables, self.meets, self.quality, self.forbidden, state)
        stalls, last_best = 0, None  # stalls: steps since the best plan last changed
        steps = 16  # the first chunk is short: it measures how long a step takes here
        done = 0  # steps taken
        while (now := time.perf_counter()) < deadline:
            if budget is not None:
                steps = min(steps, budget - done)
                if steps <= 0:
                    break
            _tabu_steps(self.seat, tables, self.meets, self.quality, self.forbidden, movable,
                        tabu, best_seat, state, steps, restart_after, bound, seed,
                        TENURE[0], TENURE[1])
            seed += 1
            done += steps
            value = (int(state[2]), int(state[3]), int(state[4]))
            if value == last_best:
                stalls += steps
            else:
                stalls, last_best = 0, value
                if progress is not None:
                    progress(f"{value[1]} repeats")
            if value[0] == 0 and value[1] <= bound:
                if self._spread_is_best(best_seat) or stalls >= QUALITY_PATIENCE * CHUNK:
                    break
            elif stalls >= REPEAT_PATIENCE * CHUNK:
                break
            # Big cafés take long steps, and a step's cost changes as the search
            # moves between repairing repeats and improving the spread: size the
            # next chunk to keep to the deadline, growing it at most twofold.
            per_step = max(time.perf_counter() - now, 1e-9) / steps
            fits = (deadline - time.perf_counter()) / 2 / per_step
            steps = int(min(CHUNK, 2 * steps, max(16, fits)))
        self.seat[:] = best_seat
        self._recount()

    def _spread_is_best(self, seat: np.ndarray) -> bool:
        """Whether every round of ``seat`` reaches the departments bound."""
        bound = self.departments_bound()
        dept = self.scorer.codes[0]
        for r in range(self.new_rounds):
            spread = [len(set(dept[seat[r] == t].tolist())) for t in range(self.tables)]
            if np.mean(spread) < bound - 1e-9:
                return False
        return True

    # -- the result ----------------------------------------------------------------------
    def plan(self, seconds: float, method: str) -> CafePlan:
        dept = {p.id: p.department for p in self.cafe.people}
        rounds: list[CafeRound] = []
        seen = dict.fromkeys(self.cafe.history.last_met, 1)
        for played in self.cafe.fixed:
            rounds.append(_describe(played, dept, seen, self.cafe.weights, self.cafe.people,
                                    played=True))
        for r in range(self.new_rounds):
            tables = tuple(
                tuple(self.ids[i] for i in np.nonzero(self.seat[r] == t)[0])
                for t in range(self.tables)
            )
            rounds.append(_describe(tables, dept, seen, self.cafe.weights, self.cafe.people))
        new = rounds[len(self.cafe.fixed):]
        return CafePlan(
            rounds=tuple(rounds),
            repeats=sum(r.repeats for r in new),
            repeats_bound=self.repeats_bound(),
            departments_min=min((r.departments_min for r in new), default=0),
            departments_mean=float(np.mean([r.departments_mean for r in new])) if new else 0.0,
            score=sum(r.score for r in new),
            seconds=seconds,
            method=method,
        )


def _past(tables: Sequence[Sequence[str]]) -> PastRound:
    return PastRound(tuple(tuple(t) for t in tables))


def _describe(tables, dept, seen, weights, people, played=False) -> CafeRound:
    """Figures of one round; ``seen`` (who met whom so far) is updated."""
    by_id = {p.id: p for p in people}
    repeats, score, spread = 0, 0, []
    for members in tables:
        spread.append(len({dept.get(m, m) for m in members}))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                key = pair_key(a, b)
                repeats += seen.get(key, 0) > 0
                seen[key] = seen.get(key, 0) + 1
                if a in by_id and b in by_id:
                    score += mixing_score(by_id[a], by_id[b], weights)
    occupied = [s for s, members in zip(spread, tables, strict=True) if members]
    return CafeRound(
        tables=tuple(tuple(t) for t in tables),
        repeats=repeats,
        departments_min=min(occupied, default=0),
        departments_mean=float(np.mean(occupied)) if occupied else 0.0,
        score=score,
        played=played,
    )


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


# -- the compiled tabu search --------------------------------------------------------


@njit(cache=True)
def _swap_delta(a, b, ta, tb, row, meets, quality, forbidden):
    """(clashes, repeats, quality) change if ``a`` (table ta) and ``b`` (tb) swap."""
    d_f = d_rep = d_q = 0
    for k in row[ta]:
        if k < 0 or k == a:
            continue
        d_f += forbidden[b, k] - forbidden[a, k]
        d_rep += int(meets[b, k] >= 1) - int(meets[a, k] >= 2)
        d_q += quality[b, k] - quality[a, k]
    for k in row[tb]:
        if k < 0 or k == b:
            continue
        d_f += forbidden[a, k] - forbidden[b, k]
        d_rep += int(meets[a, k] >= 1) - int(meets[b, k] >= 2)
        d_q += quality[a, k] - quality[b, k]
    return d_f, d_rep, d_q


@njit(cache=True)
def _evaluate(tables, meets, quality, forbidden, offset):
    """Clashes, repeats and quality of the rounds in ``tables`` (meets: all rounds)."""
    f = q = 0
    for r in range(tables.shape[0]):
        for t in range(tables.shape[1]):
            row = tables[r, t]
            for x in range(row.size):
                for y in range(x + 1, row.size):
                    if row[x] >= 0 and row[y] >= 0:
                        f += forbidden[row[x], row[y]]
                        q += quality[row[x], row[y]]
    rep = 0
    n = meets.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if meets[i, j] > 1:
                rep += meets[i, j] - 1
    return f, rep - offset, q


@njit(cache=True)
def _kernel_init(seat, tables, meets, quality, forbidden, state):
    f, rep, q = _evaluate(tables, meets, quality, forbidden, 0)
    state[0] = 0
    state[1] = 0
    state[2] = f
    state[3] = rep
    state[4] = -q
    state[5] = f
    state[6] = rep
    state[7] = -q


@njit(cache=True)
def _move(r, a, b, ta, tb, seat, tables, meets):
    """Swap a and b in round r, keeping ``tables`` and ``meets`` in step."""
    row = tables[r]
    for k in row[ta]:
        if k >= 0 and k != a:
            meets[a, k] -= 1
            meets[k, a] -= 1
            meets[b, k] += 1
            meets[k, b] += 1
    for k in row[tb]:
        if k >= 0 and k != b:
            meets[b, k] -= 1
            meets[k, b] -= 1
            meets[a, k] += 1
            meets[k, a] += 1
    for s in range(row.shape[1]):
        if row[ta, s] == a:
            row[ta, s] = b
    for s in range(row.shape[1]):
        if row[tb, s] == b:
            row[tb, s] = a
    seat[r, a] = tb
    seat[r, b] = ta


@njit(cache=True)
def _tabu_steps(seat, tables, meets, quality, forbidden, movable, tabu, best_seat, state,
                steps, restart_after, bound, seed, tenure_lo, tenure_hi):
    """Run ``steps`` tabu steps; ``state`` carries the step count and the values
    (current at 5..7, best at 2..4: clashes, repeats, −quality) between calls."""
    np.random.seed(seed)
    rounds, n = seat.shape
    width = tables.shape[2]
    big = 1
    for i in range(n):
        for j in range(n):
            if quality[i, j] > big:
                big = quality[i, j]
    big = big * 4 * width + 1
    huge = big * 4 * width + 1
    cur_f, cur_rep, cur_q = state[5], state[6], state[7]
    for _ in range(steps):
        step = state[0] + 1
        state[0] = step
        conflict = cur_f > 0 or cur_rep > 0
        best_key = -(2**62)
        ties = 0
        choice_r = choice_a = choice_b = -1
        choice_d = (0, 0, 0)
        for r in range(rounds):
            row = tables[r]
            for a in range(n):
                if movable[a] == 0:
                    continue
                # Without conflicts, polish the spread from a sample of people:
                # the whole neighbourhood is n² per round, too slow for big cafés.
                if not conflict and n > SAMPLE and np.random.randint(n) >= SAMPLE:
                    continue
                ta = seat[r, a]
                if conflict:
                    troubled = False
                    for k in row[ta]:
                        if k >= 0 and k != a and (meets[a, k] >= 2 or forbidden[a, k] > 0):
                            troubled = True
                            break
                    if not troubled:
                        continue
                for b in range(n):
                    if movable[b] == 0 or b == a:
                        continue
                    tb = seat[r, b]
                    if tb == ta:
                        continue
                    d_f, d_rep, d_q = _swap_delta(a, b, ta, tb, row, meets, quality, forbidden)
                    if tabu[r, a, b] >= step:
                        # Aspiration: allowed only if it beats the best plan.
                        if not (cur_f + d_f < state[2] or (cur_f + d_f == state[2]
                                                           and cur_rep + d_rep < state[3])):
                            continue
                    key = -d_f * huge - d_rep * big + d_q
                    if key > best_key:
                        best_key = key
                        ties = 1
                        choice_r, choice_a, choice_b = r, a, b
                        choice_d = (d_f, d_rep, d_q)
                    elif key == best_key:
                        ties += 1
                        if np.random.randint(ties) == 0:
                            choice_r, choice_a, choice_b = r, a, b
                            choice_d = (d_f, d_rep, d_q)
        if choice_r < 0:
            state[1] = restart_after  # nothing to do: restart
        else:
            r, a, b = choice_r, choice_a, choice_b
            _move(r, a, b, seat[r, a], seat[r, b], seat, tables, meets)
            tenure = tenure_lo + np.random.randint(tenure_hi - tenure_lo)
            tabu[r, a, b] = step + tenure
            tabu[r, b, a] = step + tenure
            cur_f += choice_d[0]
            cur_rep += choice_d[1]
            cur_q -= choice_d[2]
            better = (cur_f < state[2] or (cur_f == state[2] and (
                cur_rep < state[3] or (cur_rep == state[3] and cur_q < state[4]))))
            if better:
                state[2], state[3], state[4] = cur_f, cur_rep, cur_q
                best_seat[:, :] = seat
                state[1] = 0
            else:
                state[1] += 1
        if state[1] >= restart_after:
            # Restart from the best plan, shaken by a few random swaps.
            for r in range(rounds):
                for i in range(n):
                    while seat[r, i] != best_seat[r, i]:
                        # bring i to its best table by swapping with someone there
                        target = best_seat[r, i]
                        for s in range(width):
                            j = tables[r, target, s]
                            if j >= 0 and best_seat[r, j] != target:
                                _move(r, i, j, seat[r, i], target, seat, tables, meets)
                                break
                        else:
                            break
            cur_f, cur_rep, cur_q = state[2], state[3], state[4]
            shakes = max(1, n // 10)
            for _s in range(shakes):
                r = np.random.randint(rounds)
                a = np.random.randint(n)
                b = np.random.randint(n)
                if movable[a] and movable[b] and seat[r, a] != seat[r, b]:
                    d_f, d_rep, d_q = _swap_delta(a, b, seat[r, a], seat[r, b], tables[r],
                                                  meets, quality, forbidden)
                    _move(r, a, b, seat[r, a], seat[r, b], seat, tables, meets)
                    cur_f += d_f
                    cur_rep += d_rep
                    cur_q -= d_q
            tabu[:, :, :] = 0
            state[1] = 0
    state[5], state[6], state[7] = cur_f, cur_rep, cur_q


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


def _subspace_plan(engine: _Engine, tries: int = 40) -> np.ndarray | None:
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
