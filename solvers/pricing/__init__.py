"""The pricing problem of the set-partitioning bound for groups.

Given points ``weights[t, u]`` between types of people (``NEG`` where they may
not share a group), a price ``penalty[t]`` per type and how many people each
type has, find the group of ``size`` people (a multiset of types, no type used
more often than it has people) whose points minus prices is largest: the
column of most reduced cost in column generation [1]_. Solved exactly by a
depth-first branch and bound over types taken in order of price, choosing
members with non-decreasing index so each multiset is met once:

* each node keeps the candidates that could still join, with what each adds
  to the members chosen so far; with ``r`` members still to choose, a
  candidate stays only if its gain, the best ``r − 1`` other gains and the
  most the ``r (r − 1) / 2`` pairs among the newcomers could score beat the
  threshold, and the node is cut when its best ``r`` gains cannot; with three
  to choose, a candidate must also beat it with the best two that could follow
  it counted by class (each class's two best gains, and the most points
  between the classes);
* the last two members are found at once: the candidates left are bucketed by
  a coarse class (a few attributes with few values, such as organisation and
  site) and each couple of buckets is scanned in order of gain, with the most
  points a pair of those classes can score, which stops each scan early.

The search stops at a work budget (about one unit per candidate looked at)
and says so; only a complete search proves its answer. The search is compiled
with numba in :mod:`solvers.pricing.kernels`, loaded only by the bounds that
need it (so a round that lists its groups never pays for numba); this module
holds what both sides share. Names with a leading underscore are private to
:mod:`solvers.bounds`.

References
----------
.. [1] G. Desaulniers, J. Desrosiers and M. M. Solomon (eds.), *Column
   Generation*, Springer (2005), ch. 1.
"""

#: The points of a pair that may not share a group, and "no candidate"
#: (floating point, so sums of it stay far below any real value).
NEG = -1e300

#: How an exact pricing ended: complete (its answer is proven), after as many
#: columns as asked for, or out of work (nothing proven).
COMPLETE, ENOUGH, CUT = 0, 1, 2
