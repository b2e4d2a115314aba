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
* **Greedy, then annealing and tabu search** otherwise: each round is built
  greedily (seat the person with the fewest options at the table where they
  add least conflict, after Triska & Musliu); where that leaves repeats above
  their lower bound or a broken rule, simulated annealing (Kirkpatrick, Gelatt
  & Vecchi) swaps two people of different tables within one round, in runs
  that each cool from the best plan so far, until the bound is met; then a run
  of annealing that adds no repeat, and a tabu search over the same swaps
  (after Dotú & Van Hentenryck: the best swap each step, undoing forbidden
  for a few steps), polish the department spread, stopping at once when it
  cannot improve.
* **Re-planning**: rounds already played are fixed (they count as history) and
  the remaining rounds are planned for whoever is present, tables kept.

The package: :mod:`~solvers.rotation.problem` (the café and its plan),
:mod:`~solvers.rotation.constructions`, :mod:`~solvers.rotation.kernels` (the
compiled annealing and tabu search) and :mod:`~solvers.rotation.engine`. Names with a
leading underscore are private to the package.
"""

from __future__ import annotations

import time

import numpy as np

from solvers.model import Infeasible
from solvers.rotation.engine import _Engine
from solvers.rotation.problem import CafePlan, CafeProblem, CafeRound, table_sizes

__all__ = ["DEFAULT_STEPS", "CafePlan", "CafeProblem", "CafeRound", "plan_cafe",
           "table_sizes"]

#: The search's step budget unless told otherwise (tabu steps; the annealing
#: before them may take five times as many, much cheaper, steps): the plan is
#: then the same for the same café and seed on any machine, however busy.
#: Most cafés converge long before it (200 people in a few seconds).
DEFAULT_STEPS = 2_000_000


def plan_cafe(
    cafe: CafeProblem,
    *,
    seed: int | None = None,
    time_limit: float = 30.0,
    steps: int | None = DEFAULT_STEPS,
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
    steps : int or None
        The most tabu steps the search may take (default
        :data:`DEFAULT_STEPS`), and five times as many annealing steps. The
        search is bounded by work: the same café and seed give the same plan
        on any machine, however busy, unless the time limit (only a safety net)
        cuts it first, which the plan reports
        (``cut_by_time``). ``None``: the time limit alone.
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
    golfer problem); otherwise each round is built greedily [2]_, simulated
    annealing [3]_ swaps two people of different tables within a round until
    the repeats meet their lower bound, and annealing that adds no repeat and
    a tabu search [1]_ over the same swaps (numba kernels) polish the
    department spread, until it cannot improve or the budget (``steps``,
    else ``time_limit``) is spent.

    References
    ----------
    .. [1] I. Dotú and P. Van Hentenryck, "Scheduling social golfers
       locally", CP-AI-OR 2005, LNCS 3524, 155–167.
    .. [2] M. Triska and N. Musliu, "An effective greedy heuristic for the
       Social Golfer Problem", Annals of Operations Research 194 (2012)
       413–425.
    .. [3] S. Kirkpatrick, C. D. Gelatt and M. P. Vecchi, "Optimization by
       simulated annealing", Science 220 (1983) 671–680.

    Examples
    --------
    Nine people at three tables of three for four rounds: an affine plane of
    order 3, so nobody meets anyone twice.

    >>> from solvers.model import Participant
    >>> people = tuple(Participant(f"p{k}", "ABC"[k % 3]) for k in range(9))
    >>> plan = plan_cafe(CafeProblem(people, tables=3, rounds=4), seed=1, steps=2000)
    >>> plan.repeats, plan.repeats_bound, plan.method
    (0, 0, 'affine-plane')
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    engine = _Engine(cafe, rng)
    method = engine.construct()
    engine.search(started + time_limit, progress, steps)
    engine.lift_worst_tables()
    if engine.broken_rules():
        rule, stuck = engine.broken_people()
        what = {"mode": "meeting modes and sites", "avoid": "the avoid list"}[rule]
        raise Infeasible(rule, stuck, f"{what} could not be kept at every table for: "
                         + ", ".join(stuck))
    return engine.plan(time.perf_counter() - started, method)

