"""Integer families (topics ``arithmetic`` and ``loops_conditionals``)."""

from __future__ import annotations

import math

from .base import Fn, code, family, ints, word
from ..base import Resample


@family("arith_expression", "arithmetic")
def arith_expression(rng, d):
    """An integer expression with //, % and precedence."""
    a, b, c = rng.randint(2, 30), rng.randint(2, 9), rng.randint(2, 9)
    if d == 1:
        body, value = ["    return a * b - c"], a * b - c
        steps = [f"a * b - c = {a} * {b} - {c} = {a * b - c}."]
    elif d == 2:
        body, value = ["    return a // b + a % c"], a // b + a % c
        steps = [f"a // b = {a} // {b} = {a // b}.", f"a % c = {a} % {c} = {a % c}.", f"{a // b} + {a % c} = {value}."]
    else:
        x = a * b - c
        value = x // c - (a % b) ** 2
        body = ["    x = a * b - c", "    return x // c - (a % b) ** 2"]
        steps = [f"x = {a} * {b} - {c} = {x}.", f"x // c = {x} // {c} = {x // c}.",
                 f"(a % b) ** 2 = {a % b} ** 2 = {(a % b) ** 2}.", f"{x // c} - {(a % b) ** 2} = {value}."]
    return Fn(code("def f(a, b, c):", *body), (a, b, c), value, steps)


@family("digit_sum", "arithmetic")
def digit_sum(rng, d):
    """Digits of an integer: sum, digital root, product of non-zero digits."""
    n = rng.randint(10 ** (d + 1), 10 ** (d + 2) - 1)
    digits = [int(ch) for ch in str(n)]
    if d == 1:
        body = ["    return sum(int(ch) for ch in str(n))"]
        value = sum(digits)
        steps = [f"The digits of {n} are {digits}; their sum is {value}."]
    elif d == 2:
        body = ["    while n >= 10:", "        n = sum(int(ch) for ch in str(n))", "    return n"]
        steps, m = [], n
        while m >= 10:
            nxt = sum(int(ch) for ch in str(m))
            steps.append(f"The digits of {m} sum to {nxt}.")
            m = nxt
        value = m
    else:
        body = ["    p = 1", "    for ch in str(n):", "        if ch != '0':", "            p *= int(ch)",
                "    return p, len(str(n))"]
        p = math.prod(x for x in digits if x)
        value = (p, len(digits))
        steps = [f"The non-zero digits of {n} are {[x for x in digits if x]}; their product is {p}.",
                 f"{n} has {len(digits)} digits."]
    return Fn(code("def f(n):", *body), (n,), value, steps)


@family("base_digits", "arithmetic")
def base_digits(rng, d):
    """divmod and writing a number in another base."""
    n, b = rng.randint(10, 60 * d * d), rng.choice([2, 3, 5, 8])
    if d == 1:
        body, value = ["    return divmod(n, b)"], divmod(n, b)
        steps = [f"divmod({n}, {b}) = ({n // b}, {n % b})."]
    else:
        body = ["    digits = []", "    while n > 0:", "        n, r = divmod(n, b)", "        digits.append(r)",
                "    return digits[::-1]" if d == 2 else "    return ''.join(str(x) for x in reversed(digits))"]
        digs, m, steps = [], n, []
        while m > 0:
            q, r = divmod(m, b)
            steps.append(f"divmod({m}, {b}) = ({q}, {r}).")
            digs.append(r)
            m = q
        value = digs[::-1] if d == 2 else "".join(str(x) for x in reversed(digs))
        steps.append(f"The remainders, last first: {value!r}.")
    return Fn(code("def f(n, b):", *body), (n, b), value, steps)


@family("euclid_gcd", "arithmetic")
def euclid_gcd(rng, d):
    """Euclid's algorithm with a loop; the lcm at higher levels."""
    g = rng.randint(2, 6 + 3 * d)
    a, b = g * rng.randint(2, 5 * d + 3), g * rng.randint(2, 5 * d + 3)
    if a == b:
        raise Resample
    body = ["    x, y = a, b", "    steps = 0", "    while y:", "        x, y = y, x % y", "        steps += 1"]
    x, y, steps_n, steps = a, b, 0, []
    while y:
        steps.append(f"x, y = {y}, {x} % {y} = {x % y}.")
        x, y = y, x % y
        steps_n += 1
    if d == 1:
        body.append("    return x")
        value = x
    elif d == 2:
        body.append("    return x, steps")
        value = (x, steps_n)
    else:
        body.append("    return a * b // x")
        value = a * b // x
        steps.append(f"a * b // gcd = {a * b} // {x} = {value}.")
    return Fn(code("def f(a, b):", *body), (a, b), value, steps)


@family("collatz_count", "loops_conditionals")
def collatz_count(rng, d):
    """A while loop with an if/else: Collatz steps."""
    n = rng.randint(3, 6 + 6 * d)
    body = ["    count = 0", "    while n != 1:", "        if n % 2 == 0:", "            n = n // 2", "        else:",
            "            n = 3 * n + 1", "        count += 1"]
    seq, m = [n], n
    while m != 1:
        m = m // 2 if m % 2 == 0 else 3 * m + 1
        seq.append(m)
    if len(seq) > 25:
        raise Resample
    steps = [f"The sequence is {seq}."]
    if d == 3:
        body.append("    return count, n")
        value = (len(seq) - 1, 1)
    else:
        body.append("    return count")
        value = len(seq) - 1
    steps.append(f"It takes {len(seq) - 1} steps to reach 1.")
    return Fn(code("def f(n):", *body), (n,), value, steps)


@family("modular_accumulate", "loops_conditionals")
def modular_accumulate(rng, d):
    """A for loop over range with if / elif / else on remainders."""
    n, a, b = rng.randint(5, 8 + 3 * d), rng.randint(2, 4), rng.randint(3, 5)
    body = ["    total = 0", "    for i in range(n):", "        if i % a == 0:", "            total += i"]
    if d >= 2:
        body += ["        elif i % b == 0:", "            total -= 1"]
    if d == 3:
        body += ["        else:", "            total *= 2" if n < 12 else "            total += 2"]
    body.append("    return total")
    total, steps = 0, []
    for i in range(n):
        if i % a == 0:
            total += i
            steps.append(f"i={i}: divisible by {a}, total = {total}.")
        elif d >= 2 and i % b == 0:
            total -= 1
            steps.append(f"i={i}: divisible by {b}, total = {total}.")
        elif d == 3:
            total = total * 2 if n < 12 else total + 2
            steps.append(f"i={i}: otherwise, total = {total}.")
    return Fn(code("def f(n, a, b):", *body), (n, a, b), total, steps)


@family("running_extremes", "loops_conditionals")
def running_extremes(rng, d):
    """Tracking a running maximum (and its index, and the number of new records)."""
    nums = ints(rng, 4 + 2 * d, -9, 20)
    body = ["    best, where, records = nums[0], 0, 0", "    for i, x in enumerate(nums):", "        if x > best:",
            "            best, where = x, i", "            records += 1"]
    best, where, records, steps = nums[0], 0, 0, [f"best starts at nums[0] = {nums[0]}."]
    for i, x in enumerate(nums):
        if x > best:
            best, where = x, i
            records += 1
            steps.append(f"i={i}: {x} > previous best, best = {x}.")
    body.append(["    return best", "    return best, where", "    return best, where, records"][d - 1])
    value = [best, (best, where), (best, where, records)][d - 1]
    return Fn(code("def f(nums):", *body), (nums,), value, steps)


@family("while_build_string", "loops_conditionals")
def while_build_string(rng, d):
    """A while loop that builds a string, skipping some characters."""
    text = word(rng, 3, 5)
    n = rng.randint(4 + d, 7 + 2 * d)
    skip = rng.choice(text) if d >= 2 else None
    body = ["    out = ''", "    i = 0", "    while len(out) < n:", "        ch = text[i % len(text)]"]
    if skip:
        body += [f"        if ch != {skip!r}:", "            out += ch"]
    else:
        body.append("        out += ch")
    body.append("        i += 1")
    if all(ch == skip for ch in text):
        raise Resample
    out, i = "", 0
    while len(out) < n:
        ch = text[i % len(text)]
        if ch != skip:
            out += ch
        i += 1
    steps = [f"The loop cycles through {text!r}" + (f", skipping {skip!r}" if skip else "") +
             f", until out has {n} characters: {out!r} after {i} turns."]
    if d == 3:
        body.append("    return out, i")
        value = (out, i)
    else:
        body.append("    return out")
        value = out
    return Fn(code("def f(text, n):", *body), (text, n), value, steps)
