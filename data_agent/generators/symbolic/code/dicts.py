"""Dictionary families (topic ``dict_ops``)."""

from __future__ import annotations

from .base import Fn, code, distinct_words, family, word, words


@family("dict_char_counts", "dict_ops")
def dict_char_counts(rng, d):
    """Counting characters with dict.get, then filtering or picking the most common."""
    text = word(rng, 5 + 2 * d, 8 + 2 * d, "abcdef")
    counts = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    lines = ["def f(text):", "    counts = {}", "    for ch in text:", "        counts[ch] = counts.get(ch, 0) + 1"]
    steps = [f"Counting in order of first appearance: {counts!r}."]
    if d == 1:
        lines.append("    return counts")
        value = counts
    elif d == 2:
        lines.append("    return {k: v for k, v in counts.items() if v > 1}")
        value = {k: v for k, v in counts.items() if v > 1}
        steps.append(f"Keeping counts above 1: {value!r}.")
    else:
        lines.append("    return max(counts, key=counts.get)")
        value = max(counts, key=counts.get)
        steps.append(f"max with key=counts.get returns the first key with the largest count: {value!r}.")
    return Fn(code(*lines), (text,), value, steps)


@family("dict_update_pop", "dict_ops")
def dict_update_pop(rng, d):
    """update, pop with a default, setdefault."""
    keys = distinct_words(rng, 3 + d, 1, 3)
    base = {k: rng.randint(0, 9) for k in keys[:2 + d // 2]}
    other = {k: rng.randint(10, 19) for k in rng.sample(keys, 2)}
    cur = dict(base)
    cur.update(other)
    lines = ["def f(d, other):", "    d.update(other)"]
    steps = [f"d.update(other) gives {cur!r}."]
    k = rng.choice(keys + ["zz"])
    popped = cur.pop(k, -1)
    lines.append(f"    x = d.pop({k!r}, -1)")
    steps.append(f"d.pop({k!r}, -1) returns {popped} and d is {cur!r}.")
    if d >= 2:
        s = rng.choice(keys)
        lines.append(f"    d.setdefault({s!r}, x)")
        had = s in cur
        cur.setdefault(s, popped)
        steps.append(f"d.setdefault({s!r}, {popped}) " + ("keeps the existing value" if had else "adds the key")
                     + f": {cur!r}.")
    if d == 3:
        lines.append("    return sum(d.values()), list(d)")
        value = (sum(cur.values()), list(cur))
        steps.append(f"The values sum to {sum(cur.values())}.")
    else:
        lines.append("    return d")
        value = cur
    return Fn(code(*lines), (base, other), value, steps)


@family("dict_invert", "dict_ops")
def dict_invert(rng, d):
    """Inverting a mapping with a comprehension (later keys win on a shared value)."""
    keys = distinct_words(rng, 3 + d, 2, 4)
    dd = {k: rng.randint(1, 2 + 2 * (4 - d)) for k in keys}
    inv = {v: k for k, v in dd.items()}
    lines = ["def f(d):", "    inv = {v: k for k, v in d.items()}"]
    steps = [f"Each value maps to its key; a value seen again takes the later key: {inv!r}."]
    if d == 1:
        lines.append("    return inv")
        value = inv
    elif d == 2:
        lines.append("    return sorted(inv)")
        value = sorted(inv)
        steps.append(f"sorted(inv) sorts the keys: {value!r}.")
    else:
        lines.append("    return len(d) - len(inv), inv[max(inv)]")
        value = (len(dd) - len(inv), inv[max(inv)])
        steps.append(f"{len(dd)} - {len(inv)} = {len(dd) - len(inv)} keys were lost; the largest value "
                     f"{max(inv)} maps to {inv[max(inv)]!r}.")
    return Fn(code(*lines), (dd,), value, steps)


@family("dict_sort_items", "dict_ops")
def dict_sort_items(rng, d):
    """Sorting dict items by value (stable), reversed, first keys."""
    keys = distinct_words(rng, 3 + d, 1, 3)
    dd = {k: rng.randint(0, 5) for k in keys}
    rev = d >= 2
    items = sorted(dd.items(), key=lambda kv: kv[1], reverse=rev)
    lines = ["def f(d):", f"    items = sorted(d.items(), key=lambda kv: kv[1]{', reverse=True' if rev else ''})"]
    steps = [f"Sorting by value ({'largest first, ' if rev else ''}ties keep their order): {items!r}."]
    if d == 3:
        k = rng.randint(1, 3)
        lines.append(f"    return [k for k, v in items[:{k}]]")
        value = [kk for kk, _ in items[:k]]
        steps.append(f"The first {k} keys: {value!r}.")
    else:
        lines.append("    return items")
        value = items
    return Fn(code(*lines), (dd,), value, steps)


@family("dict_group_by", "dict_ops")
def dict_group_by(rng, d):
    """Grouping words by their first letter with setdefault."""
    ws = [rng.choice("abc") + w for w in words(rng, 3 + 2 * d, 1, 4)]
    groups = {}
    for w in ws:
        groups.setdefault(w[0], []).append(w)
    lines = ["def f(words):", "    groups = {}", "    for w in words:", "        groups.setdefault(w[0], []).append(w)"]
    steps = [f"Grouped by first letter: {groups!r}."]
    if d == 1:
        lines.append("    return groups")
        value = groups
    elif d == 2:
        lines.append("    return {k: len(v) for k, v in groups.items()}")
        value = {k: len(v) for k, v in groups.items()}
        steps.append(f"Group sizes: {value!r}.")
    else:
        lines.append("    return {k: max(v, key=len) for k, v in groups.items() if len(v) > 1}")
        value = {k: max(v, key=len) for k, v in groups.items() if len(v) > 1}
        steps.append(f"For groups of more than one word, the first longest word: {value!r}.")
    return Fn(code(*lines), (ws,), value, steps)


@family("dict_fromkeys_merge", "dict_ops")
def dict_fromkeys_merge(rng, d):
    """dict.fromkeys and merging with | (right side wins)."""
    a, b = words(rng, 2 + d, 1, 2, ), words(rng, 2, 1, 2)
    base = dict.fromkeys(a, 0)
    steps = [f"dict.fromkeys(keys, 0) is {base!r} (a repeated key is kept once)."]
    lines = ["def f(keys, extra):", "    d = dict.fromkeys(keys, 0)"]
    cur = base
    if d >= 2:
        lines.append("    d = d | {k: len(k) for k in extra}")
        cur = cur | {k: len(k) for k in b}
        steps.append(f"Merged with the lengths of {b!r}: {cur!r}.")
    if d == 3:
        lines.append("    return [k for k, v in d.items() if v]")
        value = [k for k, v in cur.items() if v]
        steps.append(f"The keys with a non-zero value: {value!r}.")
    else:
        lines.append("    return d")
        value = cur
    return Fn(code(*lines), (a, b), value, steps)
