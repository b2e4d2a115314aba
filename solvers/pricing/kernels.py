"""The compiled branch and bound of :mod:`solvers.pricing` (numba): the best
two members to complete a group, the best gains of a node, and the search.
Names with a leading underscore are private to :mod:`solvers.bounds`."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import COMPLETE, CUT, ENOUGH, NEG  # constants to numba when it compiles


@njit(cache=True, nogil=True)
def _free(counts, members, depth, c):
    """People of type ``c`` not yet among the first ``depth`` members."""
    free = counts[c]
    for z in range(depth):
        if members[z] == c:
            free -= 1
    return free


@njit(cache=True, nogil=True)
def _last_two(weights, counts, kinds_of, gains, size, depth, members, value, threshold,
              grow, classes, class_weights, class_best, buckets, fill, columns, found, best,
              work):
    """The best two members to complete a group (see the module docstring).

    ``kinds_of[:size]`` are the candidate types (ascending), ``gains[:size]``
    what each adds to the members chosen so far. Returns
    ``(best, threshold, found, work, status)``.
    """
    top = NEG
    for x in range(size):
        top = max(top, gains[x])
    if size == 0 or top < NEG / 2:
        return best, threshold, found, work, COMPLETE
    kinds = class_weights.shape[0]
    work += 2 * size
    for k in range(kinds):
        fill[k] = 0
    # Candidates that could take part, best gain first, dealt into their buckets.
    keys = np.empty(size)
    passing = 0
    for x in range(size):
        if value + gains[x] + top + class_best[classes[kinds_of[x]]] > threshold:
            keys[passing] = -gains[x]
            buckets[0, passing] = x  # scratch until dealt below
            passing += 1
    order = np.argsort(keys[:passing])
    held = buckets[0, :passing].copy()
    for z in range(passing):
        x = held[order[z]]
        k = classes[kinds_of[x]]
        buckets[k, fill[k]] = x
        fill[k] += 1
    room = columns.shape[0]
    for k in range(kinds):
        for m in range(k, kinds):
            pair_most = class_weights[k, m]
            if fill[k] == 0 or fill[m] == 0 or pair_most < NEG / 2:
                continue
            for x in range(fill[k]):
                gc = gains[buckets[k, x]]
                c = kinds_of[buckets[k, x]]
                first = x if k == m else 0
                if first >= fill[m] or (
                        value + gc + gains[buckets[m, first]] + pair_most <= threshold):
                    break
                for y in range(first, fill[m]):
                    partial = value + gc + gains[buckets[m, y]]
                    if partial + pair_most <= threshold:
                        break
                    d = kinds_of[buckets[m, y]]
                    w = weights[c, d]
                    if w < NEG / 2 or (c == d and _free(counts, members, depth, c) < 2):
                        continue
                    work += 1
                    total = partial + w
                    if total > best:
                        best = total
                    if total > threshold:
                        slot = found % room  # growing, the last ``room`` are the best
                        for z in range(depth):
                            columns[slot, z] = members[z]
                        columns[slot, depth] = min(c, d)
                        columns[slot, depth + 1] = max(c, d)
                        found += 1
                        if grow:
                            threshold = total
                        elif found == room:
                            return best, threshold, found, work, ENOUGH
    return best, threshold, found, work, COMPLETE


@njit(cache=True, nogil=True)
def _top_sum(gains, kinds_of, size, counts, members, depth, wanted, tops):
    """The sum of the ``wanted`` best gains, a type counted as often as it has
    people free (``NEG`` if there are fewer)."""
    for z in range(wanted):
        tops[z] = NEG
    for x in range(size):
        g = gains[x]
        if g <= tops[wanted - 1]:
            continue
        c = kinds_of[x]
        times = min(wanted, _free(counts, members, depth, c))
        for _ in range(times):
            if g <= tops[wanted - 1]:
                break
            z = wanted - 1
            while z > 0 and tops[z - 1] < g:
                tops[z] = tops[z - 1]
                z -= 1
            tops[z] = g
    if tops[wanted - 1] < NEG / 2:
        return NEG
    total = 0.0
    for z in range(wanted):
        total += tops[z]
    return total


@njit(cache=True, nogil=True)
def _best_groups(weights, penalty, counts, size, threshold, classes, class_weights,
                 room, grow, work_limit):
    """Groups of ``size`` worth more than ``threshold`` (types in order of penalty).

    With ``grow`` the threshold rises to each group found, so the search ends
    with the best group (the last column written, at ``(found - 1) % room``);
    without it, it stops after ``room`` columns. Returns ``(best, columns,
    found, work, status)``, the columns in the first ``min(found, room)`` rows:
    ``best`` is the most any group examined is worth (``NEG`` if none beat the
    threshold's cuts), and a ``COMPLETE`` search proves that no group is worth
    more than ``max(threshold, best)``.
    """
    count = penalty.shape[0]
    kinds = class_weights.shape[0]
    class_best = np.full(kinds, NEG)
    for k in range(kinds):
        for m in range(kinds):
            class_best[k] = max(class_best[k], class_weights[k, m])
    most = NEG  # the most any allowed pair scores
    for c in range(count):
        for d in range(c, count):
            if weights[c, d] > most:
                most = weights[c, d]
    # Per depth: the candidate types (ascending) and what each adds to the members.
    kinds_of = np.zeros((size + 1, count), np.int64)
    gains = np.zeros((size + 1, count))
    length = np.zeros(size + 1, np.int64)
    members = np.zeros(size, np.int64)
    value = np.zeros(size + 1)
    others = np.zeros(size + 1)
    class_top = np.full((size + 1, kinds, 2), NEG)
    cursor = np.zeros(size + 1, np.int64)
    fresh = np.ones(size + 1, np.bool_)
    room = max(room, 1)
    columns = np.zeros((room, size), np.int64)
    buckets = np.zeros((kinds, count), np.int64)
    fill = np.zeros(kinds, np.int64)
    tops = np.empty(size)
    found = 0
    best = NEG
    work = 0
    for c in range(count):
        if counts[c] > 0:
            kinds_of[0, length[0]] = c
            gains[0, length[0]] = -penalty[c]
            length[0] += 1
    depth = 0
    while depth >= 0:
        if work > work_limit:
            return best, columns, found, work, CUT
        rest = size - depth
        n = length[depth]
        if rest == 2:
            best, threshold, found, work, status = _last_two(
                weights, counts, kinds_of[depth], gains[depth], n, depth, members,
                value[depth], threshold, grow, classes, class_weights, class_best, buckets,
                fill, columns, found, best, work)
            if status == ENOUGH:
                return best, columns, found, work, ENOUGH
            depth -= 1
            continue
        if rest == 1:  # a group of one: no pairs
            for x in range(n):
                total = value[depth] + gains[depth, x]
                best = max(best, total)
                if total > threshold:
                    columns[found % room, 0] = kinds_of[depth, x]
                    found += 1
                    if grow:
                        threshold = total
                    elif found == room:
                        return best, columns, found, work, ENOUGH
            depth -= 1
            continue
        pairs = most * rest * (rest - 1) / 2
        if fresh[depth]:
            fresh[depth] = False
            cursor[depth] = 0
            work += 2 * n
            whole = _top_sum(gains[depth], kinds_of[depth], n, counts, members, depth, rest,
                             tops)
            if whole < NEG / 2 or value[depth] + whole + pairs <= threshold:
                depth -= 1
                continue
            # A candidate stays if, with the best others that could follow, it can
            # beat the threshold (which only rises).
            others[depth] = _top_sum(gains[depth], kinds_of[depth], n, counts, members, depth,
                                     rest - 1, tops)
            kept = 0
            for x in range(n):
                if value[depth] + gains[depth, x] + others[depth] + pairs > threshold:
                    kinds_of[depth, kept] = kinds_of[depth, x]
                    gains[depth, kept] = gains[depth, x]
                    kept += 1
            length[depth] = n = kept
            if rest == 3:  # the two best gains of each class, for the test below
                for k in range(kinds):
                    class_top[depth, k, 0] = class_top[depth, k, 1] = NEG
                for x in range(n):
                    g = gains[depth, x]
                    k = classes[kinds_of[depth, x]]
                    for _ in range(min(2, _free(counts, members, depth, kinds_of[depth, x]))):
                        if g > class_top[depth, k, 0]:
                            class_top[depth, k, 1] = class_top[depth, k, 0]
                            class_top[depth, k, 0] = g
                        elif g > class_top[depth, k, 1]:
                            class_top[depth, k, 1] = g
        x = cursor[depth]
        if x >= n:
            depth -= 1
            continue
        cursor[depth] = x + 1
        c = kinds_of[depth, x]
        if value[depth] + gains[depth, x] + others[depth] + pairs <= threshold:
            continue  # the threshold has risen since
        if rest == 3:
            # The last two, by class: each adds its gain and at most the class
            # bound with c; together at most the class bound of their pair.
            work += kinds * kinds
            mine = classes[c]
            pair_best = NEG
            for k in range(kinds):
                uk = class_top[depth, k, 0] + class_weights[mine, k]
                if uk < NEG / 2:
                    continue
                vk = class_top[depth, k, 1] + class_weights[mine, k]
                if vk > NEG / 2:
                    pair_best = max(pair_best, uk + vk + class_weights[k, k])
                for m in range(k + 1, kinds):
                    um = class_top[depth, m, 0] + class_weights[mine, m]
                    if um > NEG / 2:
                        pair_best = max(pair_best, uk + um + class_weights[k, m])
            if pair_best < NEG / 2 or value[depth] + gains[depth, x] + pair_best <= threshold:
                continue
        members[depth] = c
        child = depth + 1
        value[child] = value[depth] + gains[depth, x]
        # The child's candidates: c again (if it has people free) and those after it.
        filled = 0
        work += n - x
        for y in range(x, n):
            d = kinds_of[depth, y]
            w = weights[c, d]
            if w < NEG / 2:
                continue
            if d == c and _free(counts, members, child, c) < 1:
                continue
            kinds_of[child, filled] = d
            gains[child, filled] = gains[depth, y] + w
            filled += 1
        length[child] = filled
        fresh[child] = True
        depth = child
    return best, columns, found, work, COMPLETE
