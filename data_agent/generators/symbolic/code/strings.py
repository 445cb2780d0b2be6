"""String families (topic ``string_methods``)."""

from __future__ import annotations

from .base import Fn, code, family, word, words
from ..base import Resample

R = repr


@family("str_method_chain", "string_methods")
def str_method_chain(rng, d):
    """A chain of 1 + d string methods (upper, swapcase, replace, strip, capitalize...)."""
    text = rng.choice(["", " "]) + word(rng, 5, 9) + rng.choice([" ", "  "]) + word(rng, 3, 6).upper() + rng.choice(["", " "])
    ops = []
    pool = ["upper", "lower", "swapcase", "strip", "capitalize", "title", "replace"]
    for _ in range(1 + d):
        ops.append(rng.choice(pool))
    lines, steps, cur = ["def f(text):"], [], text
    for op in ops:
        if op == "replace":
            letters = sorted(set(c for c in cur.lower() if c.isalpha()))
            if not letters:
                raise Resample
            a = rng.choice(letters)
            b = rng.choice("xyz*-")
            lines.append(f"    text = text.replace({a!r}, {b!r})")
            cur = cur.replace(a, b)
            steps.append(f"text.replace({a!r}, {b!r}) gives {cur!r}.")
        else:
            lines.append(f"    text = text.{op}()")
            cur = getattr(cur, op)()
            steps.append(f"text.{op}() gives {cur!r}.")
    lines.append("    return text")
    return Fn(code(*lines), (text,), cur, steps)


@family("str_count_find", "string_methods")
def str_count_find(rng, d):
    """count / find / rfind of a substring."""
    sub = word(rng, 1, 2, "abc")
    text = word(rng, 6 + 2 * d, 10 + 3 * d, "abcde")
    c, fi, rf = text.count(sub), text.find(sub), text.rfind(sub)
    if d == 1:
        body, value = ["    return text.count(sub)"], c
    elif d == 2:
        body, value = ["    return (text.count(sub), text.find(sub))"], (c, fi)
    else:
        body = ["    first = text.find(sub)", "    last = text.rfind(sub)",
                "    return (text.count(sub), last - first)"]
        value = (c, rf - fi)
    steps = [f"{sub!r} occurs {c} time(s) in {text!r} (count does not overlap matches)."]
    if d >= 2:
        steps.append(f"text.find({sub!r}) is {fi}" + (f" and text.rfind({sub!r}) is {rf}." if d == 3 else "."))
    return Fn(code("def f(text, sub):", *body), (text, sub), value, steps)


@family("str_split_join", "string_methods")
def str_split_join(rng, d):
    """split on a separator, optionally reverse or filter the parts, join with another."""
    sep, glue = rng.choice([(",", "-"), (" ", "_"), ("/", "+"), (";", " ")])
    parts = words(rng, 3 + d, 1, 6)
    text = sep.join(parts)
    lines = ["def f(text):", f"    parts = text.split({sep!r})"]
    steps = [f"text.split({sep!r}) gives {parts!r}."]
    cur = list(parts)
    if d >= 2:
        lines.append("    parts = parts[::-1]")
        cur = cur[::-1]
        steps.append(f"Reversed: {cur!r}.")
    if d == 3:
        k = rng.randint(2, 4)
        lines.append(f"    parts = [p for p in parts if len(p) > {k}]")
        cur = [p for p in cur if len(p) > k]
        steps.append(f"Keeping the parts longer than {k}: {cur!r}.")
    lines.append(f"    return {glue!r}.join(parts)")
    value = glue.join(cur)
    steps.append(f"Joined with {glue!r}: {value!r}.")
    return Fn(code(*lines), (text,), value, steps)


@family("str_partition", "string_methods")
def str_partition(rng, d):
    """str.partition / rpartition and recombining the pieces."""
    sep = rng.choice("-:@=")
    text = sep.join(words(rng, 2 + (d == 3), 2, 6))
    method = "rpartition" if d == 3 else "partition"
    head, s, tail = getattr(text, method)(sep)
    steps = [f"text.{method}({sep!r}) gives {(head, s, tail)!r}."]
    if d == 1:
        body, value = [f"    return text.{method}({sep!r})"], (head, s, tail)
    else:
        body = [f"    head, sep, tail = text.{method}({sep!r})", "    return tail + sep + head.upper()"]
        value = tail + s + head.upper()
        steps.append(f"tail + sep + head.upper() is {tail!r} + {s!r} + {head.upper()!r} = {value!r}.")
    return Fn(code("def f(text):", *body), (text,), value, steps)


@family("str_slicing", "string_methods")
def str_slicing(rng, d):
    """Slices with start, stop and step, and reversed strings."""
    text = word(rng, 7 + d, 10 + 2 * d)
    n = len(text)
    a, b = sorted(rng.sample(range(n + 1), 2))
    steps = [f"len(text) is {n}."]
    if d == 1:
        body, value = [f"    return text[{a}:{b}]"], text[a:b]
        steps.append(f"text[{a}:{b}] is {value!r}.")
    elif d == 2:
        st = rng.randint(2, 3)
        body, value = [f"    return text[{a}:{b}:{st}]"], text[a:b:st]
        steps.append(f"text[{a}:{b}] is {text[a:b]!r}; every {st}th character of it: {value!r}.")
    else:
        k = rng.randint(1, 3)
        rev = text[::-1]
        value = rev[a:b] + text[:k]
        body = ["    rev = text[::-1]", f"    return rev[{a}:{b}] + text[:{k}]"]
        steps.append(f"rev is {rev!r}; rev[{a}:{b}] is {rev[a:b]!r} and text[:{k}] is {text[:k]!r}, "
                     f"together {value!r}.")
    return Fn(code("def f(text):", *body), (text,), value, steps)


@family("str_affixes", "string_methods")
def str_affixes(rng, d):
    """startswith / removeprefix / removesuffix / ljust."""
    pre, core, suf = word(rng, 1, 3), word(rng, 3, 6), word(rng, 1, 3)
    text = (pre if rng.random() < 0.7 else "") + core + (suf if rng.random() < 0.7 else "")
    cur = text.removeprefix(pre)
    lines = ["def f(text, pre, suf):", "    text = text.removeprefix(pre)"]
    steps = [f"text.removeprefix({pre!r}) gives {cur!r}" + ("." if text.startswith(pre)
                                                            else f" (text does not start with {pre!r}).")]
    if d >= 2:
        new = cur.removesuffix(suf)
        lines.append("    text = text.removesuffix(suf)")
        steps.append(f"text.removesuffix({suf!r}) gives {new!r}.")
        cur = new
    if d == 3:
        w = len(cur) + rng.randint(1, 3)
        ch = rng.choice("*#.")
        lines.append(f"    text = text.ljust({w}, {ch!r})")
        cur = cur.ljust(w, ch)
        steps.append(f"text.ljust({w}, {ch!r}) pads it to {cur!r}.")
    lines.append("    return text")
    return Fn(code(*lines), (text, pre, suf), cur, steps)


@family("str_char_classes", "string_methods")
def str_char_classes(rng, d):
    """Filtering characters with isdigit / isalpha / isupper."""
    chars = [rng.choice("abcXYZ0123!") for _ in range(6 + 2 * d)]
    text = "".join(chars)
    digits = "".join(c for c in text if c.isdigit())
    if d == 1:
        body, value = ["    return ''.join(c for c in text if c.isdigit())"], digits
        steps = [f"The digits of {text!r}, in order: {digits!r}."]
    elif d == 2:
        body = ["    letters = [c for c in text if c.isalpha()]", "    return ''.join(letters).swapcase()"]
        letters = [c for c in text if c.isalpha()]
        value = "".join(letters).swapcase()
        steps = [f"letters is {letters!r}.", f"Joined and swapcased: {value!r}."]
    else:
        up = sum(1 for c in text if c.isupper())
        lo = sum(1 for c in text if c.islower())
        other = len(text) - up - lo
        body = ["    up = sum(1 for c in text if c.isupper())", "    lo = sum(1 for c in text if c.islower())",
                "    return (up, lo, len(text) - up - lo)"]
        value = (up, lo, other)
        steps = [f"{text!r} has {up} upper-case and {lo} lower-case letters out of {len(text)} characters."]
    return Fn(code("def f(text):", *body), (text,), value, steps)
