"""Domain packs: description, sample submission, seeds, splits, task, skills.

A pack is a folder ``domains/<name>/`` with a ``pack.json`` manifest that names
its files and records the sha256 of each; the loader verifies them, so a changed
split is an error rather than a silent shift. ``scorer.kind`` names the pack's
task (:mod:`data_agent.tasks`), which reads the split rows (their field names are
the benchmark's) and owns the answer contract; ``skills`` lists the topics
teachers are asked for.

The test split is sealed: every read of it goes through one guarded function
(:meth:`Domain._items`), which raises :class:`SealedSplitError` unless called
inside :func:`unsealed_test`; only the final scoring step of the loop (and the
user's own ``data-agent evaluate --split test``) opens it. Each read is recorded
with its reason, in the run directory's ``audit.json`` when the opener names one.
Decontamination against the test problems goes through hashed n-gram
fingerprints built with the pack, never through the split itself.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import DataAgentError
from .fingerprints import EvalFingerprints, FingerprintError, content_words
from .plan import TopicInfo
from .records import EvalItem, atomic_write_json, parse_json, read_json, read_text
from .tasks import Task, TaskError, get_task

PACKAGE_ROOT = Path(__file__).resolve().parent
REQUIRED_MANIFEST_KEYS = ("name", "instruction", "splits", "seeds", "sample_submission", "description", "files",
                          "decontamination")


class DomainError(DataAgentError):
    """A domain pack is missing, broken or altered."""


class SealedSplitError(DataAgentError):
    """Something tried to read the sealed test split before the final scoring step."""


# --------------------------------------------------------------------------- test seal

_seal = threading.local()
TEST_READS: list[dict[str, Any]] = []
"""Audit trail of this process: one entry per read of a test split (see :func:`unsealed_test`)."""


@contextlib.contextmanager
def unsealed_test(reason: str, audit: Path | None = None) -> Iterator[None]:
    """Allow reads of the test split inside this block (final scoring only).

    Every read inside is recorded with ``reason`` in :data:`TEST_READS` and,
    when ``audit`` names a file (a run's ``audit.json``), appended to it."""
    if not str(reason or "").strip():
        raise SealedSplitError("unsealing the test split needs a reason")
    prev = getattr(_seal, "open", None)
    _seal.open = (str(reason), Path(audit) if audit is not None else None)
    try:
        yield
    finally:
        _seal.open = prev


def _test_is_unsealed() -> bool:
    return getattr(_seal, "open", None) is not None


def _record_test_read(domain: str, path: Path, n_items: int) -> None:
    reason, audit = _seal.open
    entry = {"at": _dt.datetime.now().isoformat(timespec="seconds"), "domain": domain, "split": "test",
             "file": path.name, "sha256": sha256_file(path), "items": n_items, "reason": reason}
    TEST_READS.append(entry)
    if audit is not None:
        data = read_audit(audit)
        data["test_reads"].append(entry)
        atomic_write_json(audit, data)


def read_audit(path: Path) -> dict[str, Any]:
    """A run's ``audit.json`` (an empty audit when it does not exist yet)."""
    path = Path(path)
    if not path.is_file():
        return {"test_reads": []}
    data = read_json(path, DomainError)
    if not isinstance(data, dict) or not isinstance(data.get("test_reads"), list):
        raise DomainError(f"{path}: expected an object with a 'test_reads' list")
    return data


# --------------------------------------------------------------------------- helpers


def ngrams(text: str, n: int) -> set[str]:
    words = content_words(text)
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def ngram_hashes(text: str, n: int) -> set[str]:
    return {hashlib.sha1(g.encode()).hexdigest()[:16] for g in ngrams(text, n)}


def build_fingerprints(eval_texts: Iterable[str], seed_texts: Iterable[str] = (), n: int = 8) -> dict[str, Any]:
    """The content of a pack's ``decontamination.json``: the sorted hashed word
    ``n``-grams of the evaluation problems (validation and test), minus those the
    seed problems share (boilerplate such as a textbook's standing assumptions:
    the seeds are legitimate teacher context), with ``shared_with_seeds``, how
    many were left out for that reason (a count, not written to the file)."""
    eval_hashes = set().union(*(ngram_hashes(t, n) for t in eval_texts))
    seed_hashes = set().union(*(ngram_hashes(t, n) for t in seed_texts))
    return {"n": n, "hashes": sorted(eval_hashes - seed_hashes), "shared_with_seeds": len(eval_hashes & seed_hashes)}


def fingerprints_json(fingerprints: dict[str, Any]) -> str:
    """The text of ``decontamination.json`` for :func:`build_fingerprints`' result."""
    return json.dumps({"n": fingerprints["n"], "hashes": fingerprints["hashes"]}) + "\n"


def sha256_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def iter_jsonl(path: Path, *, what: str = "a JSON object", error: type[DataAgentError] = DomainError
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of a JSONL file. A
    missing file, a malformed line or a line that is not an object raises
    ``error`` naming the file and line (``what`` says what was expected)."""
    path = Path(path)
    for i, line in enumerate(read_text(path, error).splitlines(), 1):
        if not line.strip():
            continue
        row = parse_json(line, path, error, line=i)
        if not isinstance(row, dict):
            raise error(f"{path}:{i}: expected {what}, got {type(row).__name__}")
        yield i, row


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a malformed line is an error naming the file and line."""
    return [row for _, row in iter_jsonl(path)]


# --------------------------------------------------------------------------- the pack


@dataclass
class Domain:
    name: str
    path: Path
    manifest: dict[str, Any]

    def file(self, field: str) -> Path:
        """The file a manifest field names (``"seeds"``, ``"splits.val"``...), checked
        to lie inside the pack folder."""
        value: Any = self.manifest
        for part in field.split("."):
            value = value[part]
        return inside_pack(self.path, value, field)

    # ---- manifest fields
    @property
    def instruction(self) -> str:
        return self.manifest["instruction"]

    @functools.cached_property
    def task(self) -> Task:
        """The pack's answer contract (``scorer.kind`` and its settings)."""
        scorer = self.manifest.get("scorer") or {}
        if not isinstance(scorer, dict):
            raise DomainError(f"{self.path / 'pack.json'}: scorer: expected an object with a 'kind'")
        try:
            return get_task(scorer.get("kind", ""), scorer)
        except TaskError as e:
            raise DomainError(f"{self.path / 'pack.json'}: scorer: {e}") from None

    def skills(self) -> dict[str, TopicInfo]:
        """The topics teachers are asked for: the pack's ``skills`` list
        (``{"name", "description", "subject", "sources"}``), or, when it lists
        none, one topic per evaluation source of ``sources``."""
        listed = self.manifest.get("skills")
        if listed:
            return {str(s["name"]): TopicInfo(subject=str(s.get("subject", "")), sources=list(s.get("sources", [])),
                                              description=str(s.get("description", ""))) for s in listed}
        return {src: TopicInfo(subject=str(subject), sources=[src], description=f"problems like those of {src}")
                for src, subject in sorted((self.manifest.get("sources") or {}).items())}

    @property
    def description(self) -> str:
        return self.file("description").read_text(encoding="utf-8")

    @property
    def decontamination_n(self) -> int:
        return int(self.manifest.get("decontamination", {}).get("n", 8))

    def sample_submission(self) -> list[dict[str, str]]:
        p = self.file("sample_submission")
        data = read_json(p, DomainError)
        if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
            raise DomainError(f"{p}: expected a non-empty JSON list of records")
        return data

    def submission_fields(self) -> list[str]:
        return list(self.sample_submission()[0].keys())

    # ---- data
    def seeds(self) -> list[dict[str, Any]]:
        return read_jsonl(self.file("seeds"))

    def _items(self, split: str) -> list[EvalItem]:
        """The one function that reads a split; the test split only inside
        :func:`unsealed_test`, and each such read is recorded."""
        if split == "test" and not _test_is_unsealed():
            raise SealedSplitError(
                f"the test split of domain {self.name!r} is sealed: it is read only by the final scoring step")
        p = self.file(f"splits.{split}")
        items = self._parse(p)
        if split == "test":
            _record_test_read(self.name, p, len(items))
        return items

    def _parse(self, p: Path) -> list[EvalItem]:
        task = self.task
        items = []
        for i, r in iter_jsonl(p):  # i: the line number, for errors
            try:
                items.append(task.item(r))
            except KeyError as e:
                raise DomainError(f"{p}:{i}: missing field {e.args[0]!r}") from None
            except (TypeError, ValueError) as e:
                raise DomainError(f"{p}:{i}: {e}") from None
        return items

    def check_rows(self) -> dict[str, Any]:
        """Parse every row of the seeds and of both splits with the task, so that a
        broken row is a one-line error naming its file and line *before* a run
        starts, not at its final step. Nothing of the test split leaves this
        method but its row count: the returned entry (file, sha256, rows) is what
        a run's ``audit.json`` records of the check, under ``test_checks``."""
        for i, r in enumerate(self.seeds(), start=1):
            try:
                self.task.seed_view(r)
            except (KeyError, TypeError, ValueError) as e:
                raise DomainError(f"{self.file('seeds')}: row {i}: {e}") from None
        self._parse(self.file("splits.val"))
        p = self.file("splits.test")
        n = len(self._parse(p))
        return {"at": _dt.datetime.now().isoformat(timespec="seconds"), "domain": self.name, "split": "test",
                "file": p.name, "sha256": sha256_file(p), "rows": n,
                "what": "row check before the run: every row parsed by the task, nothing kept or shown"}

    def val_items(self, limit: int | None = None) -> list[EvalItem]:
        items = self._items("val")
        return stratified_subset(items, limit) if limit else items

    def test_items(self, limit: int | None = None) -> list[EvalItem]:
        """The test split (or its subset); raises :class:`SealedSplitError` outside :func:`unsealed_test`."""
        items = self._items("test")
        return stratified_subset(items, limit) if limit else items

    def contamination_hashes(self) -> set[str]:
        """Hashed word n-grams of validation and test problems (from the pack's
        fingerprint file; the test split itself is not read)."""
        p = self.file("decontamination.file")
        data = read_json(p, DomainError)
        if not isinstance(data, dict) or not isinstance(data.get("hashes"), list):
            raise DomainError(f"{p}: expected an object with a 'hashes' list")
        return set(data["hashes"])

    @functools.cached_property
    def fingerprints(self) -> EvalFingerprints | None:
        """The per-item fingerprints of the validation and test problems
        (``decontamination.fingerprints``, :mod:`data_agent.fingerprints`), or
        ``None`` for a pack without them (then only n-gram overlap is checked)."""
        if "fingerprints" not in self.manifest.get("decontamination", {}):
            return None
        try:
            return EvalFingerprints.load(self.file("decontamination.fingerprints"))
        except FingerprintError as e:
            raise DomainError(str(e)) from e

    def decontamination_threshold(self, key: str, default: float) -> float:
        """``decontamination.containment`` or ``.cosine`` from the manifest, else ``default``."""
        return float(self.manifest.get("decontamination", {}).get(key, default))


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_FILE = {"type": "string", "minLength": 1, "x-expected": "a file name inside the pack"}
_COUNT = {"type": "integer", "minimum": 0}

PACK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pack.json",
    "description": (
        "The manifest of a domain pack. Every file it names is a path relative to the pack folder and must "
        "lie inside it (no '..', no absolute path, no symlink out). Fields: name (a plain folder name), "
        "instruction (the prompt every record carries), description (a Markdown file), splits ({val, test}: "
        "JSONL files), seeds (a JSONL file), sample_submission (a JSON list of records), decontamination "
        "({file: the hashed n-gram fingerprints, n: the n-gram length, and optionally fingerprints: the per-item "
        "fingerprints file, containment and paraphrase ({cosine, cosine_few_numbers, numbers}): its "
        "thresholds}), files ({file: sha256}), and optionally "
        "dedup ({jaccard, cosine, numbers}: near-duplicate thresholds), title, license (a file), license_name (a short SPDX identifier, e.g. MIT), attribution, scorer ({kind, ...task settings}), sources ({source: subject}), "
        "skills ([{name, subject, description, sources}]) and counts ({split: rows}). Unknown fields are allowed."),
    "type": "object",
    "required": ["name", "instruction", "splits", "seeds", "sample_submission", "description", "files",
                 "decontamination"],
    "properties": {
        "name": {"type": "string", "pattern": r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]*$",
                 "x-message": "must be a plain name (letters, digits, '_', '-', '.')"},
        "title": {"type": "string"},
        "instruction": {"type": "string", "minLength": 1},
        "description": _FILE,
        "license": _FILE,
        "license_name": {"type": "string", "minLength": 1},
        "attribution": {"type": "string"},
        "seeds": _FILE,
        "sample_submission": _FILE,
        "splits": {"type": "object", "required": ["val", "test"],
                   "properties": {"val": _FILE, "test": _FILE},
                   "x-message": "'splits' must be an object naming a 'val' and a 'test' file"},
        "decontamination": {"type": "object", "required": ["file"],
                            "properties": {"file": _FILE, "n": {"type": "integer", "minimum": 1},
                                           "fingerprints": _FILE,
                                           "containment": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                                           "paraphrase": {
                                               "type": "object", "additionalProperties": False,
                                               "properties": {k: {"type": "number", "exclusiveMinimum": 0,
                                                                  "maximum": 1}
                                                              for k in ("cosine", "numbers", "cosine_few_numbers")}}}},
        "files": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                                              "x-expected": "a sha256 (64 hex digits)"}},
        "scorer": {"type": "object", "x-message": "expected an object with a 'kind'"},
        "sources": {"type": "object", "additionalProperties": {"type": "string"}},
        "skills": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": r"\S", "x-expected": "a non-empty name"},
                           "subject": {"type": "string"}, "description": {"type": "string"},
                           "sources": {"type": "array", "items": {"type": "string"},
                                       "x-expected": "a list of source names"}},
            "x-expected": "an object with a non-empty 'name'"}},
        "counts": {"type": "object", "additionalProperties": _COUNT},
        "dedup": {"type": "object", "additionalProperties": False,
                  "properties": {"jaccard": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                                 "cosine": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                                 "numbers": {"type": "number", "minimum": 0, "maximum": 1}}},
    },
}
"""The JSON Schema of ``pack.json`` (draft 2020-12); :func:`load_domain` checks a
manifest against it before reading anything else. ``x-message`` and ``x-expected``
are this module's own keywords: the error message for a field (ignored by validators)."""

_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false"}


def _field_name(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_schema(manifest: Any, where: Path) -> None:
    """Check ``manifest`` against :data:`PACK_SCHEMA`; the most relevant error is
    raised as one line naming the field ("pack.json: files: expected an object")."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    err = best_match(Draft202012Validator(PACK_SCHEMA).iter_errors(manifest))
    if err is None:
        return
    field = _field_name(err.absolute_path)
    if err.validator == "required":
        missing = next((k for k in err.validator_value if isinstance(err.instance, dict) and k not in err.instance),
                       "?")
        parent_schema = err.schema
        if parent_schema.get("x-message"):
            raise DomainError(f"{where}: {parent_schema['x-message']}")
        raise DomainError(f"{where}: missing field {_field_name([*err.absolute_path, missing])!r}")
    # a field's own message, or the nearest enclosing one (skills[1].name -> skills[1]'s)
    schema = err.schema if isinstance(err.schema, dict) else {}
    msg = schema.get("x-message")
    if msg:
        raise DomainError(f"{where}: {msg}" if msg.startswith("'") else f"{where}: {field}: {msg}")
    if err.validator == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        expected = schema.get("x-expected") or " or ".join(_TYPE_WORDS.get(t, t) for t in types)
        raise DomainError(f"{where}: {field or 'the manifest'}: expected {expected}, "
                          f"got {type(err.instance).__name__}")
    expected = schema.get("x-expected")
    if expected:
        raise DomainError(f"{where}: {field}: expected {expected}, got {err.instance!r}")
    raise DomainError(f"{where}: {field or 'the manifest'}: {err.message}")


def pack_paths(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Every file the manifest names, as ``(field, path)`` (``files`` keys included)."""
    out = [(f"splits.{k}", v) for k, v in manifest["splits"].items() if k in ("val", "test")]
    out += [(k, manifest[k]) for k in ("seeds", "sample_submission", "description", "license") if k in manifest]
    out.append(("decontamination.file", manifest["decontamination"]["file"]))
    if "fingerprints" in manifest["decontamination"]:
        out.append(("decontamination.fingerprints", manifest["decontamination"]["fingerprints"]))
    out += [("files", k) for k in manifest["files"]]
    return out


def inside_pack(pack_dir: Path, rel: str, field: str, where: Path | None = None) -> Path:
    """``pack_dir / rel``, checked to lie inside the pack folder once resolved
    (``..``, an absolute path or a symlink out is a :class:`DomainError` naming the field)."""
    root = Path(pack_dir).resolve()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise DomainError(f"{where or Path(pack_dir) / 'pack.json'}: {field}: {rel!r} lies outside the pack folder "
                          f"(pack files are paths inside {Path(pack_dir)})")
    return Path(pack_dir) / rel


def _check_layout(manifest: dict[str, Any], where: Path) -> None:
    """What the schema does not say: every named file lies inside the pack; the
    split and seed files are distinct; skill names are unique."""
    for field, rel in pack_paths(manifest):
        inside_pack(where.parent, rel, field, where)
    splits = manifest["splits"]
    files = [splits["val"], splits["test"], manifest["seeds"]]
    if len(set(files)) != len(files):
        raise DomainError(f"{where}: the val split, the test split and the seeds must be different files "
                          f"(got {', '.join(files)})")
    seen: set[str] = set()
    for i, sk in enumerate(manifest.get("skills") or []):
        if sk["name"] in seen:
            raise DomainError(f"{where}: skills[{i}]: duplicate skill name {sk['name']!r}")
        seen.add(sk["name"])


def largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder;
    ties by key, so the result is deterministic). Zero weights everywhere split evenly."""
    s = sum(weights.values())
    if s <= 0:
        weights = {k: 1.0 for k in weights}
        s = float(len(weights))
    quotas = {k: total * w / s for k, w in weights.items()}
    alloc = {k: int(q) for k, q in quotas.items()}
    rest = total - sum(alloc.values())
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - alloc[k]), k))[:rest]:
        alloc[k] += 1
    return alloc


def stratified_subset(items: list[EvalItem], n: int) -> list[EvalItem]:
    """A deterministic, source-stratified subset of ``n`` items (largest remainder).
    Items keep the pack's order, which is a hash ranking within each source."""
    if n < 1:
        raise ValueError(f"a subset needs at least 1 item, got {n}")
    if n >= len(items):
        return list(items)
    by_src: dict[str, list[EvalItem]] = {}
    for it in items:
        by_src.setdefault(it.source, []).append(it)
    alloc = largest_remainder({s: float(len(v)) for s, v in by_src.items()}, n)
    chosen = {it.id for s, v in by_src.items() for it in v[:alloc[s]]}
    return [it for it in items if it.id in chosen]


def domains_dirs() -> list[Path]:
    """Where packs live, in lookup order: ``./domains`` (packs a user made with
    ``init-domain``) and the source checkout's ``domains/`` (the shipped ones)."""
    out: list[Path] = []
    for d in (Path.cwd() / "domains", PACKAGE_ROOT.parent / "domains"):
        if d.is_dir() and all(d.resolve() != o.resolve() for o in out):
            out.append(d)
    return out


def _pack_dir(name: str) -> Path | None:
    for d in domains_dirs():
        if (d / name / "pack.json").is_file():
            return d / name
    return None


def list_domains() -> list[str]:
    """The names of every pack in :func:`domains_dirs` (a name in ``./domains`` hides a shipped one)."""
    return sorted({p.name for d in domains_dirs() for p in d.iterdir() if (p / "pack.json").is_file()})


def load_domain(name_or_path: str | Path, verify: bool = True) -> Domain:
    """Load and verify a pack by name (under ``domains/``) or by path."""
    p = Path(name_or_path)
    if not (p / "pack.json").is_file():
        found = _pack_dir(str(name_or_path))
        p = found if found is not None else (domains_dirs() or [PACKAGE_ROOT.parent / "domains"])[0] / str(name_or_path)
    manifest_path = p / "pack.json"
    if not p.is_dir():
        known = ", ".join(list_domains()) or "none"
        raise DomainError(f"unknown domain {str(name_or_path)!r} (known: {known})")
    if not manifest_path.is_file():
        raise DomainError(f"{manifest_path}: file not found (every domain pack needs a pack.json manifest)")
    manifest = read_json(manifest_path, DomainError)
    _check_schema(manifest, manifest_path)  # the structure first: nothing below meets a wrong type
    _check_layout(manifest, manifest_path)
    dom = Domain(name=manifest["name"], path=p, manifest=manifest)
    dom.task  # an unknown task kind or a bad scorer setting fails here, before any work
    if verify:
        for fname, digest in manifest["files"].items():
            f = inside_pack(p, fname, "files", manifest_path)
            if not f.is_file():
                raise DomainError(f"{f}: file not found (listed in {manifest_path})")
            if sha256_file(f) != digest:
                if f.suffix == ".jsonl":
                    read_jsonl(f)  # a malformed line is the more useful error: it names the line
                elif f.suffix == ".json":
                    read_json(f, DomainError)
                raise DomainError(f"{f}: sha256 does not match {manifest_path}; the file was changed "
                                  f"(rebuild the pack if the change is intended)")
        needed = [manifest["seeds"], manifest["sample_submission"], manifest["description"],
                  *manifest["splits"].values()]
        for fname in needed:
            if fname not in manifest["files"]:
                raise DomainError(f"{manifest_path}: {fname!r} has no sha256 under 'files'")
        _check_sample(dom)
    return dom


def _check_sample(dom: Domain) -> None:
    """The sample submission shows the format: every record has the pack's
    instruction and ends with the task's final answer line."""
    path = dom.file("sample_submission")
    for i, rec in enumerate(dom.sample_submission()):
        if rec.get("instruction") != dom.instruction:
            raise DomainError(f"{path}: record {i}: 'instruction' differs from pack.json's instruction")
        why = dom.task.final_line_error(str(rec.get("output", "")))
        if why:
            raise DomainError(f"{path}: record {i}: {why} (the sample must show the {dom.task.kind} format)")
