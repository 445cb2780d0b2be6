"""Per-item fingerprints of a pack's evaluation problems: decontamination that
survives edits and paraphrase, from a file that holds no problem text.

For each validation and test item, a pack's ``fingerprints.json`` stores:

* its id and split (rejection reasons name the item);
* a MinHash signature (datasketch, ``affine32``, 128 permutations) of its word
  3-gram *shingles*, over normalised tokens: lower case, LaTeX command names
  dropped, **every number replaced by 0** (a copy with its numbers changed has
  the same shingles), and the number of distinct shingles;
* a SimHash sketch of its all-MiniLM-L6-v2 embedding, numbers masked
  (:mod:`data_agent.embeddings`, :func:`embedding_text`);
* a MinHash signature (64 permutations) of its set of numbers, and their count:
  a paraphrase keeps a problem's numbers.

Shingles found in many items (:func:`common_shingles`: ``the unit of``,
``0 0 0``) are nobody's own text: they are left out of the items' sets and of
every checked text's (the file lists their hashes), so a record full of
numbers or standard phrasing does not "contain" a short item.

A record *contains* an item when the estimated share of the item's shingles
found in the record's text, ``|A & B| / |A|``, reaches the pack's threshold.
From the signatures' Jaccard estimate ``J`` and the two set sizes it is
``J (|A| + |B|) / ((1 + J) |A|)``. A word inserted, deleted or changed breaks
at most three of an item's shingles, so light edits keep most of them; a
solution that quotes a problem contains all of them, however long it is.
Paraphrases share few shingles and are caught by the embedding sketches
together with the numbers (:data:`data_agent.validators.DEFAULT_PARAPHRASE`).

Neither part can be turned back into a problem: a signature keeps 128 hash
minima of the shingles, without their order or most of them, a sketch keeps
1,024 sign bits of an embedding, and the number signature 64 hash minima.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .errors import DataAgentError

SHINGLE_N = 3
NUM_PERM = 128
MINHASH_SEED = 1
SCHEME = "affine32"
SKETCH_BITS = 1024
NUMBER_PERM = 64
SKETCH_SEED = 0
FORMAT_VERSION = 1
WIRE_N = 8
"""Words per n-gram of the test items' wire-audit n-grams (``test_ngrams``)."""
WIRE_MIN_RUN = 5
"""Consecutive test n-grams an outbound text must hold to be stopped: a span of
``WIRE_N + WIRE_MIN_RUN - 1`` (12) words of one test item."""
WIRE_COMMON_DF = 3
"""An n-gram found in this many test items or more is boilerplate (a textbook's
standing assumptions), not a test item's own text, and is left out."""

_LATEX_CMD_RE = re.compile(r"\\[a-zA-Z]+")
_WORD_RE = re.compile(r"[a-z0-9]+")


class FingerprintError(DataAgentError):
    """A fingerprint file is missing fields or was built with other settings."""


def content_words(text: str) -> list[str]:
    """Lower-case words and numbers, without LaTeX command names (``\\mathrm``,
    ``\\frac``...), so shared unit markup does not look like shared text."""
    return _WORD_RE.findall(_LATEX_CMD_RE.sub(" ", text).lower())


def shingle_tokens(text: str, mask_numbers: bool = True) -> list[str]:
    """:func:`content_words`, with every number (each run of digits) replaced by
    ``0`` unless ``mask_numbers`` is false."""
    words = content_words(text)
    return [re.sub(r"\d+", "0", w) for w in words] if mask_numbers else words


def shingles(text: str, n: int = SHINGLE_N, mask_numbers: bool = True) -> set[bytes]:
    """The distinct word ``n``-grams of :func:`shingle_tokens` (a shorter text: its
    tokens as one shingle; no tokens: none), as UTF-8 bytes."""
    toks = shingle_tokens(text, mask_numbers)
    if len(toks) < n:
        return {" ".join(toks).encode()} if toks else set()
    return {" ".join(toks[i:i + n]).encode() for i in range(len(toks) - n + 1)}


@functools.cache
def _permutations(num_perm: int):
    """The MinHash permutations (made once: datasketch draws them per object otherwise)."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=SCHEME).permutations


def minhash(shingle_set: Iterable[bytes], num_perm: int = NUM_PERM):
    """The datasketch MinHash of a set of shingles (the settings of the pack fingerprints)."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=SCHEME, permutations=_permutations(num_perm))
    m.update_batch(sorted(shingle_set))
    return m


_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def numbers(text: str) -> set[bytes]:
    """The distinct numbers in ``text``, normalised (``1.50`` and ``1.5`` alike,
    leading zeros dropped), as bytes: a paraphrase keeps a problem's numbers."""
    out = set()
    for m in _NUMBER_RE.findall(text):
        if "." in m:
            m = m.rstrip("0").rstrip(".")
        out.add((m.lstrip("0") or "0").encode())
    return out


def embedding_text(text: str) -> str:
    """The text that is embedded for the paraphrase check: numbers masked (``0``),
    so changed numbers do not move the embedding (they are compared separately)."""
    return re.sub(r"\d+", "0", text)


def word_ngram_hashes(text: str, n: int = WIRE_N) -> np.ndarray:
    """The 64-bit hashes of ``text``'s word ``n``-grams (:func:`content_words`,
    numbers kept), in text order: the first 8 bytes of the SHA-1 of the words
    joined by spaces (the hashes of ``decontamination.json``, as integers)."""
    words = content_words(text)
    if len(words) < n:
        return np.zeros(0, dtype=np.uint64)
    return np.array([int.from_bytes(hashlib.sha1(" ".join(words[i:i + n]).encode()).digest()[:8], "big")
                     for i in range(len(words) - n + 1)], dtype=np.uint64)


def test_ngrams(texts: Iterable[str], exclude: Iterable[str] = ()) -> np.ndarray:
    """The sorted word n-gram hashes of the test items ``texts`` for the wire
    audit, minus boilerplate (in :data:`WIRE_COMMON_DF` items or more) and minus
    those of ``exclude`` (texts that may legitimately go out)."""
    df: Counter = Counter()
    for t in texts:
        df.update(set(word_ngram_hashes(t).tolist()))
    drop = set()
    for t in exclude:
        drop.update(word_ngram_hashes(t).tolist())
    keep = sorted(h for h, n in df.items() if n < WIRE_COMMON_DF and h not in drop)
    return np.array(keep, dtype=np.uint64)


def wire_hashes(items: list[tuple[str, str, str]], seed_texts: Iterable[str] = ()) -> np.ndarray:
    """The wire audit's n-grams: the test items', minus those of the validation
    items and the seeds, which engineers and teachers may legitimately be shown."""
    items = list(items)
    return test_ngrams((t for _, s, t in items if s == "test"),
                       [*seed_texts, *(t for _, s, t in items if s != "test")])


def signatures(shingle_sets: list[set[bytes]]) -> np.ndarray:
    """MinHash signatures of ``shingle_sets``: ``(n, NUM_PERM)`` uint32 (an empty
    set gets datasketch's empty signature, which matches nothing)."""
    if not shingle_sets:
        return np.zeros((0, NUM_PERM), dtype=np.uint32)
    return np.stack([minhash(s).hashvalues for s in shingle_sets]).astype(np.uint32)


def number_signatures(number_sets: list[set[bytes]]) -> np.ndarray:
    """MinHash signatures (:data:`NUMBER_PERM` permutations) of number sets."""
    if not number_sets:
        return np.zeros((0, NUMBER_PERM), dtype=np.uint32)
    return np.stack([minhash(s, NUMBER_PERM).hashvalues for s in number_sets]).astype(np.uint32)


COMMON_MIN_ITEMS = 3
"""A shingle found in at least this many evaluation items (or 1% of them, if
more) is common phrasing (``the unit of``, ``0 0 0``), not any item's own: it
is left out of every item's set and of every checked text's."""


def shingle_hash(shingle: bytes) -> str:
    return hashlib.sha1(shingle).hexdigest()[:16]


def common_shingles(shingle_sets: list[set[bytes]]) -> set[bytes]:
    """The shingles of :data:`COMMON_MIN_ITEMS` or more of ``shingle_sets``."""
    df: Counter = Counter(sh for s in shingle_sets for sh in s)
    least = max(COMMON_MIN_ITEMS, math.ceil(0.01 * len(shingle_sets)))
    return {sh for sh, n in df.items() if n >= least}


def containment(jaccard: np.ndarray, item_sizes: np.ndarray, record_size: int) -> np.ndarray:
    """Estimated share of each item's shingles in the record: ``J (|A| + |B|) / ((1 + J) |A|)``, in [0, 1]."""
    a = np.maximum(item_sizes.astype(np.float64), 1.0)
    est = jaccard * (a + record_size) / ((1.0 + jaccard) * a)
    return np.clip(est, 0.0, 1.0)


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def build(items: Iterable[tuple[str, str, str]], embed: Callable[[list[str]], np.ndarray] | None = None,
          seed_texts: Iterable[str] = ()) -> dict[str, Any]:
    """The content of ``fingerprints.json`` for ``items`` (``(id, split, text)``).

    ``embed`` (default: :func:`data_agent.embeddings.embed`) maps texts to unit
    embeddings; only their sketches are kept. ``seed_texts``: the pack's seed
    problems, whose n-grams the wire audit's test n-grams leave out."""
    from . import embeddings

    items = list(items)
    ids = [i for i, _, _ in items]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise FingerprintError(f"fingerprints: item ids are not unique: {', '.join(dup[:5])}")
    sets = [shingles(t) for _, _, t in items]
    common = common_shingles(sets)
    sets = [s - common for s in sets]
    sigs = signatures(sets)
    nums = [numbers(t) for _, _, t in items]
    nsigs = number_signatures(nums)
    vecs = (embed or embeddings.embed)([embedding_text(t) for _, _, t in items])
    sk = embeddings.sketch(vecs, SKETCH_BITS, SKETCH_SEED)
    return {
        "version": FORMAT_VERSION,
        "shingles": {"n": SHINGLE_N, "tokens": "content words, numbers as 0"},
        "minhash": {"num_perm": NUM_PERM, "seed": MINHASH_SEED, "scheme": SCHEME},
        "sketch": {"model": embeddings.MODEL_NAME, "bits": SKETCH_BITS, "seed": SKETCH_SEED,
                   "text": "numbers masked"},
        "numbers": {"num_perm": NUMBER_PERM, "seed": MINHASH_SEED, "scheme": SCHEME},
        "common": sorted(shingle_hash(sh) for sh in common),
        "test_ngrams": {"n": WIRE_N, "min_run": WIRE_MIN_RUN, "common_df": WIRE_COMMON_DF,
                        "hashes": _b64(wire_hashes(items, seed_texts).astype(">u8"))},
        "items": [{"id": i, "split": s, "shingles": len(sh), "minhash": _b64(sig), "sketch": _b64(k),
                   "numbers": len(ns), "numbers_minhash": _b64(nsig)}
                  for (i, s, _), sh, sig, k, ns, nsig in zip(items, sets, sigs, sk, nums, nsigs)],
    }


@dataclass
class EvalFingerprints:
    """A pack's fingerprints, loaded for checking (:meth:`check_text`)."""

    ids: list[str]
    splits: list[str]
    sizes: np.ndarray
    sigs: np.ndarray
    sketches: np.ndarray
    n_numbers: np.ndarray
    number_sigs: np.ndarray
    common: frozenset = frozenset()
    """Hashes of the common shingles (:func:`common_shingles`), left out of a checked text."""
    wire_ngrams: np.ndarray | None = None
    """The test items' sorted word n-gram hashes for the wire audit (:func:`test_ngrams`);
    ``None`` for a pack built before they existed."""

    @classmethod
    def from_dict(cls, data: Any, where: str = "fingerprints.json") -> "EvalFingerprints":
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise FingerprintError(f"{where}: expected an object with an 'items' list")
        want = {"shingles": {"n": SHINGLE_N}, "minhash": {"num_perm": NUM_PERM, "seed": MINHASH_SEED,
                                                            "scheme": SCHEME},
                "sketch": {"bits": SKETCH_BITS, "seed": SKETCH_SEED, "text": "numbers masked"},
                "numbers": {"num_perm": NUMBER_PERM, "seed": MINHASH_SEED, "scheme": SCHEME}}
        for key, fields in want.items():
            got = data.get(key) if isinstance(data.get(key), dict) else {}
            for f, v in fields.items():
                if got.get(f) != v:
                    raise FingerprintError(f"{where}: {key}.{f} is {got.get(f)!r}, this version reads {v!r} "
                                           "(rebuild the pack's fingerprints)")
        ids, splits, sizes, sigs, sks, nn, nsigs = [], [], [], [], [], [], []
        for k, it in enumerate(data["items"]):
            try:
                sig = np.frombuffer(base64.b64decode(it["minhash"], validate=True), dtype=np.uint32)
                sk = np.frombuffer(base64.b64decode(it["sketch"], validate=True), dtype=np.uint8)
                nsig = np.frombuffer(base64.b64decode(it["numbers_minhash"], validate=True), dtype=np.uint32)
                if sig.shape != (NUM_PERM,) or sk.shape != (SKETCH_BITS // 8,) or nsig.shape != (NUMBER_PERM,):
                    raise ValueError("wrong length")
                ids.append(str(it["id"]))
                splits.append(str(it["split"]))
                sizes.append(int(it["shingles"]))
                nn.append(int(it["numbers"]))
            except (KeyError, TypeError, ValueError) as e:
                raise FingerprintError(f"{where}: items[{k}]: malformed ({e})") from e
            sigs.append(sig)
            sks.append(sk)
            nsigs.append(nsig)
        common = data.get("common", [])
        if not isinstance(common, list) or not all(isinstance(h, str) for h in common):
            raise FingerprintError(f"{where}: common: expected a list of shingle hashes")
        wire = None
        tn = data.get("test_ngrams")
        if tn is not None:
            try:
                if tn.get("n") != WIRE_N or tn.get("min_run") != WIRE_MIN_RUN:
                    raise ValueError(f"n {tn.get('n')!r}, min_run {tn.get('min_run')!r}; this version reads "
                                     f"{WIRE_N} and {WIRE_MIN_RUN}")
                raw = base64.b64decode(tn["hashes"], validate=True)
                if len(raw) % 8:
                    raise ValueError("not a whole number of 64-bit hashes")
                wire = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                raise FingerprintError(f"{where}: test_ngrams: malformed ({e})") from None
        return cls(ids, splits, np.array(sizes, dtype=np.int64),
                   np.stack(sigs) if sigs else np.zeros((0, NUM_PERM), np.uint32),
                   np.stack(sks) if sks else np.zeros((0, SKETCH_BITS // 8), np.uint8),
                   np.array(nn, dtype=np.int64),
                   np.stack(nsigs) if nsigs else np.zeros((0, NUMBER_PERM), np.uint32), frozenset(common), wire)

    @classmethod
    def load(cls, path: Path) -> "EvalFingerprints":
        from .records import read_json

        return cls.from_dict(read_json(Path(path), FingerprintError), str(path))

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, split: str) -> "EvalFingerprints":
        """The items of one split only."""
        keep = np.array([s == split for s in self.splits], dtype=bool)
        return EvalFingerprints([i for i, k in zip(self.ids, keep) if k], [split] * int(keep.sum()),
                                self.sizes[keep], self.sigs[keep], self.sketches[keep], self.n_numbers[keep],
                                self.number_sigs[keep], self.common, self.wire_ngrams)

    def test_run(self, text: str) -> int:
        """The longest run of consecutive word n-grams of ``text`` that are test
        items' own (:data:`WIRE_MIN_RUN` or more: a long span of a test item);
        0 without ``wire_ngrams``."""
        if self.wire_ngrams is None or not len(self.wire_ngrams):
            return 0
        hashes = word_ngram_hashes(text)
        if not len(hashes):
            return 0
        hit = np.isin(hashes, self.wire_ngrams, assume_unique=False)
        best = run = 0
        for h in hit:
            run = run + 1 if h else 0
            best = max(best, run)
        return best

    def containments(self, text_shingles: set[bytes]) -> np.ndarray:
        """Estimated share of each item's shingles found in a text with these
        shingles (the common ones left out)."""
        if self.common:
            text_shingles = {sh for sh in text_shingles if shingle_hash(sh) not in self.common}
        if not text_shingles or not len(self):
            return np.zeros(len(self))
        sig = minhash(text_shingles).hashvalues.astype(np.uint32)
        jac = (self.sigs == sig[None, :]).mean(axis=1)
        return containment(jac, self.sizes, len(text_shingles))

    def number_containments(self, text_numbers: set[bytes]) -> np.ndarray:
        """Estimated share of each item's numbers found among a text's numbers."""
        if not text_numbers or not len(self):
            return np.zeros(len(self))
        sig = minhash(text_numbers, NUMBER_PERM).hashvalues.astype(np.uint32)
        jac = (self.number_sigs == sig[None, :]).mean(axis=1)
        return containment(jac, self.n_numbers, len(text_numbers))

    def cosines(self, text_sketch: np.ndarray) -> np.ndarray:
        """Estimated cosine of a text's embedding with each item's."""
        from .embeddings import sketch_cosines

        if not len(self):
            return np.zeros(0)
        return sketch_cosines(text_sketch, self.sketches)
