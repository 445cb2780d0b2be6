"""Sorting, comprehension and set families (topics ``sorting``, ``comprehension``, ``set_ops``)."""

from __future__ import annotations

from .base import Fn, code, family, ints, words
from ..base import Resample


@family("sort_words_key", "sorting")
def sort_words_key(rng, d):
    """sorted with key=len, a tuple key, reverse and a top-k slice."""
    ws = words(rng, 4 + d, 1, 5)
    if d == 1:
        body, value = ["    return sorted(words, key=len)"], sorted(ws, key=len)
        steps = [f"Sorting by length (stable: equal lengths keep their order): {value!r}."]
    elif d == 2:
        body, value = ["    return sorted(words, key=lambda w: (len(w), w))"], sorted(ws, key=lambda w: (len(w), w))
        steps = [f"Sorting by length, then alphabetically: {value!r}."]
    else:
        k = rng.randint(2, 3)
        srt = sorted(ws, key=lambda w: (w[-1], w), reverse=True)
        value = srt[:k]
        body = ["    ordered = sorted(words, key=lambda w: (w[-1], w), reverse=True)", f"    return ordered[:{k}]"]
        steps = [f"Sorting by last letter, then the word, descending: {srt!r}.", f"The first {k}: {value!r}."]
    return Fn(code("def f(words):", *body), (ws,), value, steps)


@family("sort_numbers", "sorting")
def sort_numbers(rng, d):
    """list.sort in place, sorting by absolute value, the median element."""
    nums = ints(rng, 5 + d, -9, 9)
    if d == 1:
        srt = sorted(nums)
        body, value = ["    nums.sort()", "    return nums[:3] + nums[-1:]"], srt[:3] + srt[-1:]
        steps = [f"nums.sort() gives {srt!r}.", f"nums[:3] + nums[-1:] is {value!r}."]
    elif d == 2:
        srt = sorted(nums, key=abs)
        body, value = ["    nums.sort(key=abs)", "    return nums"], srt
        steps = [f"Sorting by absolute value (ties keep their order): {srt!r}."]
    else:
        srt = sorted(nums, reverse=True)
        mid = srt[len(srt) // 2]
        body = ["    ordered = sorted(nums, reverse=True)", "    mid = ordered[len(ordered) // 2]",
                "    return mid, [x for x in nums if x > mid]"]
        value = (mid, [x for x in nums if x > mid])
        steps = [f"Descending: {srt!r}; the middle item (index {len(srt) // 2}) is {mid}.",
                 f"The items of nums above {mid}, in their order: {value[1]!r}."]
    return Fn(code("def f(nums):", *body), (nums,), value, steps)


@family("comp_filter_map", "comprehension")
def comp_filter_map(rng, d):
    """A list comprehension with a condition (and a conditional expression)."""
    nums = ints(rng, 5 + 2 * d, -5, 15)
    k, m = rng.randint(2, 3), rng.randint(2, 4)
    if d == 1:
        body, value = [f"    return [x * {m} for x in nums if x % {k} == 0]"], [x * m for x in nums if x % k == 0]
        steps = [f"The items divisible by {k}: {[x for x in nums if x % k == 0]!r}; times {m}: {value!r}."]
    elif d == 2:
        body = [f"    return [x if x > 0 else -x * {m} for x in nums if x != {nums[0]}]"]
        value = [x if x > 0 else -x * m for x in nums if x != nums[0]]
        steps = [f"Dropping every {nums[0]}, negatives and zero become -x * {m}: {value!r}."]
    else:
        body = [f"    evens = [x for x in nums if x % 2 == 0]", f"    return sum(evens), [x // {k} for x in evens if x > {m}]"]
        evens = [x for x in nums if x % 2 == 0]
        value = (sum(evens), [x // k for x in evens if x > m])
        steps = [f"evens is {evens!r} with sum {sum(evens)}.", f"Those above {m}, floor-divided by {k}: {value[1]!r}."]
    return Fn(code("def f(nums):", *body), (nums,), value, steps)


@family("comp_dict_lengths", "comprehension")
def comp_dict_lengths(rng, d):
    """A dict comprehension over words (a repeated word keeps one key)."""
    ws = words(rng, 3 + 2 * d, 1, 6)
    if d == 1:
        body, value = ["    return {w: len(w) for w in words}"], {w: len(w) for w in ws}
    elif d == 2:
        k = rng.randint(2, 4)
        body, value = [f"    return {{w[0]: w for w in words if len(w) >= {k}}}"], {w[0]: w for w in ws if len(w) >= k}
    else:
        body = ["    d = {w: w.count('a') + w.count('e') for w in words}", "    return {k: v for k, v in d.items() if v}"]
        value = {w: w.count("a") + w.count("e") for w in ws}
        value = {k: v for k, v in value.items() if v}
    steps = [f"Building the dict key by key (a later word overwrites an equal key): {value!r}."]
    return Fn(code("def f(words):", *body), (ws,), value, steps)


@family("comp_nested", "comprehension")
def comp_nested(rng, d):
    """Nested comprehensions: a table, flattening, a filtered sum."""
    a, b = rng.randint(2, 3), rng.randint(2, 3 + d)
    table = [[i * j for j in range(b)] for i in range(1, a + 1)]
    steps = [f"The table is {table!r}."]
    if d == 1:
        body, value = [f"    return [[i * j for j in range(b)] for i in range(1, a + 1)]"], table
        steps = [f"Row i holds i * j for j in range({b}): {table!r}."]
    elif d == 2:
        body = ["    table = [[i * j for j in range(b)] for i in range(1, a + 1)]",
                "    return [x for row in table for x in row if x % 2]"]
        value = [x for row in table for x in row if x % 2]
        steps.append(f"The odd entries, row by row: {value!r}.")
    else:
        body = ["    table = [[i * j for j in range(b)] for i in range(1, a + 1)]",
                "    return [sum(row) for row in table], max(map(max, table))"]
        value = ([sum(r) for r in table], max(map(max, table)))
        steps.append(f"Row sums {value[0]!r}; the largest entry is {value[1]}.")
    return Fn(code("def f(a, b):", *body), (a, b), value, steps)


@family("set_operations", "set_ops")
def set_operations(rng, d):
    """Intersection, difference and symmetric difference, returned sorted."""
    a, b = ints(rng, 4 + d, 0, 9), ints(rng, 4 + d, 0, 9)
    inter = sorted(set(a) & set(b))
    if d == 1:
        body, value = ["    return sorted(set(a) & set(b))"], inter
        steps = [f"The values in both lists, sorted: {inter!r}."]
    elif d == 2:
        diff = sorted(set(a) - set(b))
        body, value = ["    return sorted(set(a) - set(b)), len(set(a) | set(b))"], (diff, len(set(a) | set(b)))
        steps = [f"In a but not in b: {diff!r}.", f"The union has {len(set(a) | set(b))} values."]
    else:
        sym = sorted(set(a) ^ set(b))
        if not sym:
            raise Resample
        body = ["    sym = sorted(set(a) ^ set(b))", "    return sym, [x for x in a if x in sym]"]
        value = (sym, [x for x in a if x in sym])
        steps = [f"In exactly one of the lists: {sym!r}.", f"The items of a among them, in order: {value[1]!r}."]
    return Fn(code("def f(a, b):", *body), (a, b), value, steps)
