"""The compiled tabu search (numba): the value of a swap, a plan's totals, and
steps of swaps between two tables of one round. Names with a leading
underscore are private to :mod:`solvers.rotation`."""

from __future__ import annotations

import numpy as np
from numba import njit

#: People per round whose swaps are tried in a step once no conflict is left.
SAMPLE = 12


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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



@njit(cache=True, nogil=True)
def _in_conflict(a, ta, row, meets, forbidden):
    for k in row[ta]:
        if k >= 0 and k != a and (meets[a, k] >= 2 or forbidden[a, k] > 0):
            return True
    return False


@njit(cache=True, nogil=True)
def _anneal_steps(seat, tables, meets, quality, forbidden, movable, best_seat, state,
                  steps, temperature, ratio, penalty, weight, bound, seed):
    """``steps`` steps of simulated annealing over swaps, the temperature falling
    by ``ratio`` a step; ``state`` as for :func:`_tabu_steps`. Returns the
    temperature reached, or −1 once the best plan has no clash and at most
    ``bound`` repeats (the run stops there).

    The energy is ``penalty·(4·clashes + repeats) − weight·quality``: to repair
    repeats, ``penalty`` 1 and ``weight`` small enough that the spread only
    breaks ties between plans of equal repeats; to polish the spread, a
    ``penalty`` no temperature pays and ``bound`` −1 (the run goes on). A
    step draws a round and a person in conflict there (the first of a few random
    draws that is; anyone once none is), and swaps them with someone at another
    table if the Metropolis rule accepts it (Kirkpatrick, Gelatt & Vecchi 1983).
    A step costs two table scans, where a tabu step scores every swap of every
    troubled person."""
    np.random.seed(seed)
    rounds, n = seat.shape
    mov = np.nonzero(movable)[0]
    m = mov.size
    state[0] += steps
    if m < 2:
        return temperature
    cur_f, cur_rep, cur_q = state[5], state[6], state[7]
    for _ in range(steps):
        temperature *= ratio
        r = np.random.randint(rounds)
        row = tables[r]
        a = mov[np.random.randint(m)]
        for _try in range(8 if bound >= 0 else 0):
            if _in_conflict(a, seat[r, a], row, meets, forbidden):
                break
            a = mov[np.random.randint(m)]
        b = mov[np.random.randint(m)]
        ta, tb = seat[r, a], seat[r, b]
        if ta == tb:
            continue
        d_f, d_rep, d_q = _swap_delta(a, b, ta, tb, row, meets, quality, forbidden)
        energy = penalty * (4.0 * d_f + d_rep) - weight * d_q
        if energy > 0 and np.random.random() >= np.exp(-energy / temperature):
            continue
        _move(r, a, b, ta, tb, seat, tables, meets)
        cur_f += d_f
        cur_rep += d_rep
        cur_q -= d_q
        if (cur_f < state[2] or (cur_f == state[2] and (
                cur_rep < state[3] or (cur_rep == state[3] and cur_q < state[4])))):
            state[2], state[3], state[4] = cur_f, cur_rep, cur_q
            best_seat[:, :] = seat
            if cur_f == 0 and cur_rep <= bound:
                temperature = -1.0
                break
    state[5], state[6], state[7] = cur_f, cur_rep, cur_q
    return temperature

