"""List families (topic ``list_ops``)."""

from __future__ import annotations

from .base import Fn, code, family, ints, words
from ..base import Resample


@family("list_mutations", "list_ops")
def list_mutations(rng, d):
    """A sequence of 1 + d in-place list operations (append, pop, insert, remove, extend)."""
    nums = ints(rng, 4 + d, 0, 9)
    cur = list(nums)
    lines, steps = ["def f(nums):"], []
    for _ in range(1 + d):
        op = rng.choice(["append", "pop", "insert", "remove", "extend", "pop0"])
        if op == "append":
            x = rng.randint(0, 9)
            lines.append(f"    nums.append({x})")
            cur.append(x)
            steps.append(f"nums.append({x}): {cur!r}.")
        elif op in ("pop", "pop0"):
            if not cur:
                raise Resample
            i = 0 if op == "pop0" else -1
            lines.append(f"    nums.pop({i if i == 0 else ''})")
            cur.pop(i)
            steps.append(f"nums.pop({i if i == 0 else ''}) removes the {'first' if i == 0 else 'last'} item: {cur!r}.")
        elif op == "insert":
            i, x = rng.randint(0, len(cur)), rng.randint(0, 9)
            lines.append(f"    nums.insert({i}, {x})")
            cur.insert(i, x)
            steps.append(f"nums.insert({i}, {x}): {cur!r}.")
        elif op == "remove":
            if not cur:
                raise Resample
            x = rng.choice(cur)
            lines.append(f"    nums.remove({x})")
            cur.remove(x)
            steps.append(f"nums.remove({x}) drops its first occurrence: {cur!r}.")
        else:
            ext = ints(rng, 2, 0, 9)
            lines.append(f"    nums.extend({ext!r})")
            cur.extend(ext)
            steps.append(f"nums.extend({ext!r}): {cur!r}.")
    lines.append("    return nums")
    return Fn(code(*lines), (nums,), cur, steps)


@family("list_index_count", "list_ops")
def list_index_count(rng, d):
    """index and count of an element, and the items before it."""
    nums = ints(rng, 5 + 2 * d, 0, 5)
    x = rng.choice(nums)
    i, c = nums.index(x), nums.count(x)
    steps = [f"{x} first appears at index {i} and appears {c} time(s)."]
    if d == 1:
        body, value = [f"    return (nums.index({x}), nums.count({x}))"], (i, c)
    elif d == 2:
        body, value = [f"    i = nums.index({x})", "    return nums[:i]"], nums[:i]
        steps.append(f"nums[:{i}] is {nums[:i]!r}.")
    else:
        body = [f"    i = nums.index({x})", f"    return nums[i + 1:].count({x}) + sum(nums[:i])"]
        value = nums[i + 1:].count(x) + sum(nums[:i])
        steps.append(f"After index {i}, {x} appears {nums[i + 1:].count(x)} more time(s); the items before it "
                     f"sum to {sum(nums[:i])}; total {value}.")
    return Fn(code("def f(nums):", *body), (nums,), value, steps)


@family("list_slice_assign", "list_ops")
def list_slice_assign(rng, d):
    """Slice assignment and deletion."""
    nums = ints(rng, 5 + d, 0, 9)
    a = rng.randint(0, len(nums) - 2)
    b = rng.randint(a + 1, len(nums))
    new = ints(rng, rng.randint(0, 3), 10, 19)
    cur = list(nums)
    cur[a:b] = new
    lines = ["def f(nums):", f"    nums[{a}:{b}] = {new!r}"]
    steps = [f"nums[{a}:{b}] is {nums[a:b]!r}; replaced by {new!r}: {cur!r}."]
    if d >= 2:
        if not cur:
            raise Resample
        k = rng.randint(0, len(cur) - 1)
        lines.append(f"    del nums[{k}]")
        del cur[k]
        steps.append(f"del nums[{k}]: {cur!r}.")
    if d == 3:
        lines.append("    nums[::2] = [0] * len(nums[::2])")
        cur[::2] = [0] * len(cur[::2])
        steps.append(f"Every second item from index 0 becomes 0: {cur!r}.")
    lines.append("    return nums")
    return Fn(code(*lines), (nums,), cur, steps)


@family("list_rotate", "list_ops")
def list_rotate(rng, d):
    """Rotation by slicing, reversal."""
    nums = ints(rng, 4 + d, 0, 9)
    k = rng.randint(1, len(nums) - 1)
    cur = nums[k:] + nums[:k]
    lines = ["def f(nums, k):", "    nums = nums[k:] + nums[:k]"]
    steps = [f"nums[{k}:] + nums[:{k}] is {nums[k:]!r} + {nums[:k]!r} = {cur!r}."]
    if d >= 2:
        lines.append("    nums.reverse()")
        cur = cur[::-1]
        steps.append(f"Reversed in place: {cur!r}.")
    if d == 3:
        lines.append("    return nums[0] * nums[-1], nums")
        value = (cur[0] * cur[-1], cur)
        steps.append(f"nums[0] * nums[-1] = {cur[0]} * {cur[-1]} = {cur[0] * cur[-1]}.")
    else:
        lines.append("    return nums")
        value = cur
    return Fn(code(*lines), (nums, k), value, steps)


@family("list_dedupe", "list_ops")
def list_dedupe(rng, d):
    """Removing duplicates while keeping order, with a loop."""
    nums = ints(rng, 6 + 2 * d, 0, 4 + d)
    out, seen_twice = [], []
    for n in nums:
        if n not in out:
            out.append(n)
        elif d == 3 and n not in seen_twice:
            seen_twice.append(n)
    lines = ["def f(nums):", "    out = []"]
    if d == 3:
        lines += ["    again = []", "    for n in nums:", "        if n not in out:", "            out.append(n)",
                  "        elif n not in again:", "            again.append(n)", "    return out, again"]
        value = (out, seen_twice)
        steps = [f"Each first occurrence goes to out: {out!r}.",
                 f"Each value seen a second time goes once to again: {seen_twice!r}."]
    else:
        lines += ["    for n in nums:", "        if n not in out:", "            out.append(n)"]
        if d == 2:
            lines.append("    return len(nums) - len(out), out")
            value = (len(nums) - len(out), out)
        else:
            lines.append("    return out")
            value = out
        steps = [f"Each value is appended the first time it is seen: {out!r}."]
        if d == 2:
            steps.append(f"{len(nums)} - {len(out)} = {len(nums) - len(out)} duplicates were skipped.")
    return Fn(code(*lines), (nums,), value, steps)


@family("list_zip_enumerate", "list_ops")
def list_zip_enumerate(rng, d):
    """zip and enumerate over two lists."""
    n = 3 + d
    names, nums = words(rng, n, 1, 4), ints(rng, n + rng.randint(0, 1), 0, 9)
    pairs = list(zip(names, nums))
    steps = [f"zip stops at the shorter list: {pairs!r}."]
    if d == 1:
        body, value = ["    return list(zip(names, nums))"], pairs
    elif d == 2:
        body = ["    return [f'{a}{b}' for a, b in zip(names, nums)]"]
        value = [f"{a}{b}" for a, b in pairs]
        steps.append(f"Each pair is written as one string: {value!r}.")
    else:
        body = ["    out = {}", "    for i, (a, b) in enumerate(zip(names, nums)):", "        if (i + b) % 2 == 0:",
                "            out[a] = i", "    return out"]
        value = {}
        for i, (a, b) in enumerate(pairs):
            if (i + b) % 2 == 0:
                value[a] = i
        steps.append(f"Keeping name -> index where index + number is even (a repeated name keeps its last "
                     f"index): {value!r}.")
    return Fn(code("def f(names, nums):", *body), (names, nums), value, steps)
