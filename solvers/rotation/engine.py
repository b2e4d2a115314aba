"""The engine behind :func:`solvers.rotation.plan_cafe`: indices, the greedy
start, the tabu search in chunks of steps, and the plan's description."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from solvers.model import (
    FORBIDDEN,
    PastRound,
    Problem,
    mixing_score,
    pair_key,
)
from solvers.rotation.bounds import repeats_bound
from solvers.rotation.constructions import _affine_plane, _resolvable_design, _subspace_plan
from solvers.rotation.kernels import _anneal_steps, _kernel_init, _tabu_steps
from solvers.rotation.problem import CafePlan, CafeProblem, CafeRound, table_sizes
from solvers.scoring import Scorer

#: Steps for which a swap may not be repeated (drawn in this range).
TENURE = (5, 15)


#: Tabu steps per compiled call, between checks of the clock.
CHUNK = 2000


#: Chunks without a better plan before giving up: on repeats, on the spread.
REPEAT_PATIENCE = 500


QUALITY_PATIENCE = 5


#: Simulated annealing before the tabu search, where the start has clashes or
#: repeats: steps per run, the temperature's start and end (in repeats), and
#: its budget as a multiple of the tabu search's steps.
ANNEAL_RUN = 1_000_000
ANNEAL_HEAT = 1.0
ANNEAL_COLD = 0.05
ANNEAL_SHARE = 5


#: Simulated annealing of the spread, once no clash is left: steps, and the
#: starting temperature (in pairs of people from different departments).
POLISH_RUN = 1_000_000
POLISH_HEAT = 1.0




class _Engine:
    """The state of one café plan under local search (indices, numpy arrays)."""

    def __init__(self, cafe: CafeProblem, rng: np.random.Generator):
        self.cafe = cafe
        self.rng = rng
        self.cut_by_time = False
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
        design = _resolvable_design(self)
        if design is not None:
            self.seat[:] = design
            self._recount()
            return "resolvable-design"
        for r in range(self.new_rounds):
            self.seat[r] = self._greedy_round()
            self._add_round(r, +1)
        return "local-search"

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
        """A lower bound on the repeats of any plan of the new rounds that keeps
        the rules: the meetings forced per person, in groups whose people can
        only sit with each other (a small site's in-person people), by the
        count of fresh pairs, and between consecutive rounds (see
        :mod:`solvers.rotation.bounds`)."""
        if self.new_rounds == 0 or self.n == 0:
            return 0
        return repeats_bound(self.forbidden == 0, self.met_before > 0, self.sizes,
                             self.new_rounds, self.host_table)

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
        seed = int(self.rng.integers(2**31 - 1))
        movable = (self.host_table < 0).astype(np.int64)
        self.cut_by_time = True  # unless the search ends otherwise (budget, bounds, stall)
        tables, state = self._kernel_state()
        if state[2] > 0 or state[3] > bound:
            if not self._anneal(tables, state, movable, bound, deadline, budget, seed):
                return  # the time limit cut it: the best plan found stands
            tables, state = self._kernel_state()
        if state[2] == 0 and not self._spread_is_best(self.seat):
            if not self._polish(tables, state, movable, deadline, budget, seed + 7919):
                return
            tables, state = self._kernel_state()
        best_seat = self.seat.copy()
        tabu = np.zeros((self.new_rounds, self.n, self.n), dtype=np.int64)
        restart_after = 200 + 20 * self.n
        stalls, last_best = 0, None  # stalls: steps since the best plan last changed
        steps = 16  # the first chunk is short: it measures how long a step takes here
        done = 0  # steps taken
        while (now := time.perf_counter()) < deadline:
            if budget is not None:
                steps = min(steps, budget - done)
                if steps <= 0:
                    self.cut_by_time = False
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
                    self.cut_by_time = False
                    break
            elif stalls >= REPEAT_PATIENCE * CHUNK:
                self.cut_by_time = False
                break
            # Big cafés take long steps, and a step's cost changes as the search
            # moves between repairing repeats and improving the spread: size the
            # next chunk to keep to the deadline, growing it at most twofold.
            per_step = max(time.perf_counter() - now, 1e-9) / steps
            fits = (deadline - time.perf_counter()) / 2 / per_step
            steps = int(min(CHUNK, 2 * steps, max(16, fits)))
        self.seat[:] = best_seat
        self._recount()

    def _kernel_state(self) -> tuple[np.ndarray, np.ndarray]:
        """The compiled search's view of the plan: who sits at each table of each
        round (−1 pads smaller tables), and its values (clashes, repeats, −quality)."""
        width = int(self.sizes.max())
        tables = np.full((self.new_rounds, self.tables, width), -1, dtype=np.int64)
        for r in range(self.new_rounds):
            for t in range(self.tables):
                members = np.nonzero(self.seat[r] == t)[0]
                tables[r, t, : len(members)] = members
        state = np.zeros(8, dtype=np.int64)  # step, since_best, best f, best rep, best q
        _kernel_init(self.seat, tables, self.meets, self.quality, self.forbidden, state)
        return tables, state

    def _anneal(self, tables, state, movable, bound, deadline, budget, seed) -> bool:
        """Repair clashes and repeats by simulated annealing, before the tabu search.

        Runs of :data:`ANNEAL_RUN` steps cool from :data:`ANNEAL_HEAT` to
        :data:`ANNEAL_COLD`, each from the best plan so far, until the plan has
        no clash and reaches the repeats bound, or :data:`ANNEAL_SHARE` times
        ``budget`` steps are spent. Its steps are cheap (two table scans), where
        a tabu step scores every swap of every troubled person: on cafés with
        hosts, meeting modes and an avoid list, the tabu search alone stalled
        at a few repeats on some seeds. Chunks of at most :data:`CHUNK` × 25
        steps let the clock be checked; returns False if it cut the search.
        """
        total = ANNEAL_SHARE * budget if budget is not None else None
        run = ANNEAL_RUN if total is None else max(1, min(ANNEAL_RUN, total))
        ratio = (ANNEAL_COLD / ANNEAL_HEAT) ** (1.0 / run)
        width = int(self.sizes.max())
        weight = 1.0 / (4 * width * max(int(self.quality.max(initial=0)), 1) + 1)
        best_seat = self.seat.copy()
        done = 0
        while total is None or done < total:
            length = run if total is None else min(run, total - done)
            temperature, seed, cut = self._cool(tables, state, movable, best_seat, length,
                                                ANNEAL_HEAT, ratio, 1.0, weight, bound, seed,
                                                deadline)
            done += length
            # From the best plan again (or on to the tabu search).
            self.seat[:] = best_seat
            self._recount()
            if cut:
                return False
            if temperature < 0:
                break
            tables[:], fresh = self._kernel_state()
            state[5:] = fresh[5:]
        return True

    def _polish(self, tables, state, movable, deadline, budget, seed) -> bool:
        """Improve the table quality (departments first) by one run of simulated
        annealing that adds no clash or repeat (a penalty no temperature pays):
        :data:`POLISH_RUN` steps (at most ``budget``), cooling from
        :data:`POLISH_HEAT` to :data:`ANNEAL_COLD` pairs of people from
        different departments. The tabu search goes on from its best plan.
        Returns False if the clock cut it."""
        run = POLISH_RUN if budget is None else max(1, min(POLISH_RUN, budget))
        ratio = (ANNEAL_COLD / POLISH_HEAT) ** (1.0 / run)
        best_seat = self.seat.copy()
        _, _, cut = self._cool(tables, state, movable, best_seat, run, POLISH_HEAT, ratio,
                               1000.0 * self.other_scale, 1.0 / self.other_scale, -1, seed,
                               deadline)
        self.seat[:] = best_seat
        self._recount()
        return not cut

    def _cool(self, tables, state, movable, best_seat, steps, temperature, ratio, penalty,
              weight, bound, seed, deadline) -> tuple[float, int, bool]:
        """One run of annealing (:func:`kernels._anneal_steps`), ``steps`` long, in
        chunks of at most :data:`CHUNK` × 25 steps with the clock checked between
        them: the temperature reached (−1: the bound was met), the next seed, and
        whether the clock cut the run."""
        while steps > 0 and temperature > 0:
            if time.perf_counter() >= deadline:
                return temperature, seed, True
            chunk = min(steps, 25 * CHUNK)
            temperature = _anneal_steps(self.seat, tables, self.meets, self.quality,
                                        self.forbidden, movable, best_seat, state, chunk,
                                        temperature, ratio, penalty, weight, bound, seed)
            seed += 1
            steps -= chunk
        return temperature, seed, False

    def lift_worst_tables(self) -> int:
        """Raise the tables below the best possible spread, after the search.

        The search's table quality counts pairs from different departments, so
        two plans with the same average spread score alike even when one has
        a table of fewer departments than all the others. Here, round by round,
        a table below the departments bound's whole part (no table can do
        better than that and every one can, when the numbers allow) swaps one
        of its doubled departments for someone from another table whose
        department it lacks, if that adds no repeat, keeps every rule, moves
        no host and leaves the other table at or above the same mark. Returns
        how many swaps were made."""
        if self.new_rounds == 0 or self.n < 2:
            return 0
        dept = self.scorer.codes[0]
        top = int(np.floor(self.departments_bound() + 1e-9))
        movable = self.host_table < 0
        swaps = 0
        for r in range(self.new_rounds):
            # A step at a time: the lowest tables up by one department, then the
            # next level, so that a table far below the mark still gains where
            # reaching the mark itself is out of reach.
            lowest = min(len(set(dept[self.seat[r] == t].tolist())) for t in range(self.tables))
            for least in range(lowest + 1, top + 1):
                changed, short = True, False
                while changed:
                    changed = False
                    seat = self.seat[r]
                    groups = [np.nonzero(seat == t)[0] for t in range(self.tables)]
                    kinds = [set(dept[g].tolist()) for g in groups]
                    below = [t for t in range(self.tables) if len(kinds[t]) < least]
                    short = bool(below)
                    for t in below:
                        found = self._lift(r, t, groups, kinds, least, dept, movable)
                        if found is not None:
                            a, b = found
                            self._add_round(r, -1)
                            self.seat[r, a], self.seat[r, b] = self.seat[r, b], self.seat[r, a]
                            self._add_round(r, +1)
                            swaps += 1
                            changed = True
                            break
                if short:
                    break
        return swaps

    def _lift(self, r, t, groups, kinds, least, dept, movable):
        """A swap (a at table t, b elsewhere) that gives table t one more department."""
        here = groups[t]
        doubled = [a for a in here if movable[a]
                   and int(np.count_nonzero(dept[here] == dept[a])) > 1]
        for u in range(self.tables):
            if u == t:
                continue
            there = groups[u]
            for b in there:
                if not movable[b] or dept[b] in kinds[t] or dept[b] < 0:
                    continue
                loses = int(np.count_nonzero(dept[there] == dept[b])) == 1
                for a in doubled:
                    gains = dept[a] not in kinds[u]
                    if len(kinds[u]) - loses + gains < least:
                        continue
                    mates_a = there[there != b]
                    mates_b = here[here != a]
                    if (self.meets[a, mates_a].any() or self.meets[b, mates_b].any()
                            or self.forbidden[a, mates_a].any()
                            or self.forbidden[b, mates_b].any()):
                        continue
                    return int(a), int(b)
        return None

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
            cut_by_time=self.cut_by_time,
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

