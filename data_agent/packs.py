"""Making a domain pack from a user's files (``data-agent init-domain``) and
summarising the packs there are (``data-agent domains``).

:func:`init_domain` reads validation, test and (optionally) seed rows from JSONL,
JSON (a list of objects) or CSV files, chosen by suffix; maps the user's field
names to the task's (:attr:`~data_agent.tasks.Task.row_fields`, overridable with a
field map); checks every row with the task (:meth:`~data_agent.tasks.Task.item`,
:meth:`~data_agent.tasks.Task.seed_view`); refuses splits that share an item; and
writes the pack: the three JSONL files, the decontamination fingerprints, a
sample submission, a description to edit and ``pack.json`` with the sha256 of
every file. Nothing is written when a check fails.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Iterator, Mapping

from .domain import (DomainError, build_fingerprints, fingerprints_json, list_domains, load_domain, ngram_hashes,
                     sha256_file)
from .records import parse_json, read_text
from .tasks import Task, get_task, known_kinds

__all__ = ["TASK_NAMES", "DEFAULT_FIELDS", "default_instruction", "domain_summaries", "init_domain",
           "parse_field_map", "read_rows"]

TASK_NAMES: dict[str, str] = {"numeric": "numeric_tolerance", "python_literal": "python_literal",
                              "exact": "exact_match", "choice": "choice"}
"""``--task`` name -> task kind."""

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id",), "source": ("source",), "problem": ("problem", "question", "input"),
    "answer": ("answer", "gold", "output"), "solution": ("solution",)}
"""Logical field -> the user's field names tried in order when the field map names none,
after the task's own pack field name (a file already in the benchmark's format needs no
map; a task's own logical fields, e.g. ``unit``, are looked up under their own name)."""

REQUIRED = ("problem", "answer")
SAMPLE_SIZE = 3
_NAME_RE = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _fail(msg: str) -> DomainError:
    return DomainError(msg)


# --------------------------------------------------------------------------- reading the user's files


def read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(where, object)`` for every row of a ``.jsonl``, ``.json`` (a list of
    objects) or ``.csv`` file; ``where`` is ``"<file>:<line>"`` (``"<file>:row <n>"``
    for a JSON list). Non-UTF-8 text and malformed JSON or CSV raise a one-line
    :class:`~data_agent.domain.DomainError` naming the file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".csv"):
        raise _fail(f"{path}: unsupported file type {path.suffix or '(none)'!r} (expected .jsonl, .json or .csv)")
    text = read_text(path, DomainError)
    rows: list[tuple[str, dict[str, Any]]] = []
    if suffix == ".jsonl":
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            row = parse_json(line, path, DomainError, line=i)
            if not isinstance(row, dict):
                raise _fail(f"{path}:{i}: expected a JSON object, got {type(row).__name__}")
            rows.append((f"{path}:{i}", row))
    elif suffix == ".json":
        data = parse_json(text, path, DomainError)
        if not isinstance(data, list):
            raise _fail(f"{path}: expected a JSON list of objects, got {type(data).__name__}")
        for i, row in enumerate(data, 1):
            if not isinstance(row, dict):
                raise _fail(f"{path}:row {i}: expected a JSON object, got {type(row).__name__}")
            rows.append((f"{path}:row {i}", row))
    else:
        rows = list(_csv_rows(path, text))
    if not rows:
        raise _fail(f"{path}: no rows")
    return rows


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise _fail(f"{path}:1: malformed CSV (no header line naming the columns)")
        header = [h.strip() for h in header]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup or "" in header:
            raise _fail(f"{path}:1: malformed CSV header ({'duplicate column ' + repr(dup[0]) if dup else 'an empty column name'})")
        for cells in reader:
            line = reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise _fail(f"{path}:{line}: malformed CSV ({len(cells)} fields, the header has {len(header)})")
            yield f"{path}:{line}", {h: c for h, c in zip(header, cells) if c != ""}
    except csv.Error as e:
        raise _fail(f"{path}:{reader.line_num}: malformed CSV ({e})") from None


# --------------------------------------------------------------------------- field mapping


def parse_field_map(spec: str | Mapping[str, str] | None, task: Task) -> dict[str, str]:
    """``"problem=question,answer=gold"`` (or a mapping) -> ``{logical: user field}``,
    checked against the task's logical fields."""
    if not spec:
        return {}
    if isinstance(spec, Mapping):
        pairs = list(spec.items())
    else:
        pairs = []
        for part in str(spec).split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise _fail(f"--field-map: expected logical=field pairs separated by commas, got {part.strip()!r}")
            pairs.append((key.strip(), value.strip()))
    out: dict[str, str] = {}
    for key, value in pairs:
        if key not in task.row_fields:
            raise _fail(f"--field-map: unknown field {key!r} for task {task.kind!r} "
                        f"(known: {', '.join(sorted(task.row_fields))})")
        if key in out:
            raise _fail(f"--field-map: {key!r} is mapped twice")
        out[key] = str(value)
    return out


def _problem_key(text: str) -> str:
    """The comparison form of a problem text (overlap checks): NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _map_row(raw: Mapping[str, Any], where: str, task: Task, fmap: Mapping[str, str], seed: bool
             ) -> tuple[dict[str, Any], dict[str, str]]:
    """A user's row -> (the pack row in the task's field names, pack field -> user field)."""
    row: dict[str, Any] = {}
    names: dict[str, str] = {}
    # A field the map names, or that another logical field reads under the task's own name
    # (python_literal reads its call from "input"), is not a default candidate for the others.
    claimed = set(fmap.values()) | {f for lg, f in task.row_fields.items() if lg not in fmap and f in raw}
    for logical, pack_field in task.row_fields.items():
        if logical == "solution" and not seed:
            continue
        if logical in fmap:
            candidates: tuple[str, ...] = (fmap[logical],)
        else:  # the task's own field name first (a file in the benchmark's format), then the usual names
            own = (pack_field,) if pack_field in raw else ()
            candidates = own + tuple(c for c in DEFAULT_FIELDS.get(logical, (logical,))
                                     if c != pack_field and c not in claimed)
        user = next((c for c in candidates if raw.get(c) not in (None, "")), None)
        if user is None:
            if logical in REQUIRED:
                wanted = " or ".join(repr(c) for c in candidates)
                raise _fail(f"{where}: missing field {wanted} (the {logical}; map another with --field-map "
                            f"{logical}=FIELD)")
            continue
        value = raw[user]
        if logical == "problem" and (not isinstance(value, str) or not value.strip()):
            raise _fail(f"{where}: field {user!r}: expected a non-empty string (the problem)")
        if logical == "options" and isinstance(value, str):  # a CSV cell: a JSON list
            try:
                value = json.loads(value)
            except ValueError:
                raise _fail(f"{where}: field {user!r}: expected a JSON list of options, got {value!r}") from None
        if logical in ("id", "source"):
            value = str(value).strip()
        row[pack_field] = value
        names[pack_field] = user
    id_field = task.row_fields["id"]
    if id_field not in row:
        digest = hashlib.sha256(_problem_key(row[task.row_fields["problem"]]).encode("utf-8")).hexdigest()
        row = {id_field: f"{'seed' if seed else 'item'}-{digest[:12]}", **row}
    return row, names


def _check_row(task: Task, row: Mapping[str, Any], names: Mapping[str, str], where: str, seed: bool) -> Any:
    """The task's view of a row (an item, or a seed view); its errors name the user's field."""
    try:
        return task.seed_view(row) if seed else task.item(row)
    except KeyError as e:
        field = str(e.args[0]) if e.args else "?"
        raise _fail(f"{where}: missing field {names.get(field, field)!r}") from None
    except (TypeError, ValueError) as e:
        msg = re.sub(r"field '([^']+)'", lambda m: f"field {names.get(m.group(1), m.group(1))!r}", str(e))
        raise _fail(f"{where}: {msg}") from None


def _read_split(path: Path, task: Task, fmap: Mapping[str, str], seed: bool = False
                ) -> list[tuple[dict[str, Any], Any]]:
    """The rows of one file as (pack row, the task's view), every row checked;
    duplicate ids inside the file are an error."""
    out = []
    seen: dict[str, str] = {}
    for where, raw in read_rows(path):
        row, names = _map_row(raw, where, task, fmap, seed)
        view = _check_row(task, row, names, where, seed)
        rid = str(row[task.row_fields["id"]])
        if rid in seen:
            raise _fail(f"{where}: duplicate id {rid!r} (also at {seen[rid]})")
        seen[rid] = where
        out.append((row, view))
    return out


def _shown_text(task: Task, row: Mapping[str, Any], view: Any) -> str:
    """The problem as the student sees it (an item's input: the options of a
    multiple-choice row included), for the overlap checks; a seed's view when the
    seed does not read as an item."""
    if hasattr(view, "input"):
        return str(view.input)
    try:
        return str(task.item(row).input)
    except (KeyError, TypeError, ValueError):
        return str(view.get("problem", ""))


def _overlap(a: list[tuple[dict[str, Any], Any]], b: list[tuple[dict[str, Any], Any]], task: Task) -> list[str]:
    """Ids of rows of ``a`` that share an id or a normalised problem (as shown to
    the student) with a row of ``b``."""
    idf = task.row_fields["id"]
    ids = {str(r[idf]) for r, _ in b}
    problems = {_problem_key(_shown_text(task, r, v)) for r, v in b}
    return [str(r[idf]) for r, v in a
            if str(r[idf]) in ids or _problem_key(_shown_text(task, r, v)) in problems]


def _list_ids(ids: list[str], k: int = 5) -> str:
    shown = ", ".join(ids[:k])
    return shown + (f" and {len(ids) - k} more" if len(ids) > k else "")


# --------------------------------------------------------------------------- the pack


def default_instruction(task: Task) -> str:
    """The instruction of a pack made for ``task``: it states the answer line."""
    return " ".join(f"Solve the following problem. Write a concise worked solution {task.answer_rule}.".split())


def _order(rows: list[dict[str, Any]], id_field: str) -> list[dict[str, Any]]:
    """Rows ranked by the sha256 of their id: subsets taken from the front
    (:func:`~data_agent.domain.stratified_subset`) are then not biased by the file's order."""
    return sorted(rows, key=lambda r: hashlib.sha256(str(r[id_field]).encode("utf-8")).hexdigest())


def _sample(task: Task, instruction: str, seed_views: list[dict[str, Any]], eval_hashes: set[str], n: int
            ) -> tuple[list[dict[str, str]], str]:
    """2-3 records in the training format: from seeds when there are any, else
    from the task's made-up :attr:`~data_agent.tasks.Task.format_examples`; none
    shares an n-gram with the evaluation problems."""
    picks = seed_views
    if len(seed_views) > SAMPLE_SIZE:
        picks = [seed_views[0], seed_views[len(seed_views) // 2], seed_views[-1]]
    made_from = "seeds"
    if not picks:
        picks, made_from = list(task.format_examples), "made-up examples"
    records = []
    for view in picks:
        try:
            inp, output, _ = task.record_fields(task.example_document(view, 4000))
        except (KeyError, TypeError, ValueError):  # a seed the task cannot show as a record
            continue
        if task.final_line_error(output) or (made_from != "seeds" and ngram_hashes(inp, n) & eval_hashes):
            continue
        records.append({"instruction": instruction, "input": inp, "output": output})
    if not records:
        if made_from == "seeds":
            return _sample(task, instruction, [], eval_hashes, n)
        raise _fail(f"task {task.kind!r} has no usable format example for the sample submission: give --seeds FILE "
                    f"with worked solutions")
    return records, made_from


def _description(name: str, title: str, task: Task, counts: dict[str, int], sources: list[str],
                 files: Mapping[str, Path | None], sample_from: str, instruction: str) -> str:
    src_line = ", ".join(sources) if sources else "none (one skill, 'all')"
    made = {k: str(v) for k, v in files.items() if v is not None}
    return "\n".join([
        f"# {title}", "",
        f"A domain pack made by `data-agent init-domain` on {_dt.date.today().isoformat()}. Edit this description: "
        "say what the problems are, where they come from and under which licence.", "",
        "## Contents", "",
        f"* validation split: {counts['val']} items (`val.jsonl`, from `{made['val']}`)",
        f"* test split: {counts['test']} items (`test.jsonl`, from `{made['test']}`), sealed: read only by the "
        "final scoring step of a run",
        f"* seeds: {counts['seeds']} worked examples (`seeds.jsonl`"
        + (f", from `{made['seeds']}`)" if "seeds" in made else ", none given)"),
        f"* sources: {src_line}", "",
        "## Answers and scoring", "",
        f"Task kind `{task.kind}`: {task.rule_summary or 'see the task module'}.", "",
        f"Instruction given with every problem: {instruction}", "",
        f"The sample submission (`sample_submission.json`) shows the training format; it was made from {sample_from}.",
        "",
    ])


def init_domain(name: str, val: Path, test: Path, task: str, *, seeds: Path | None = None,
                field_map: str | Mapping[str, str] | None = None, instruction: str | None = None,
                out: Path | None = None, title: str | None = None, license_name: str | None = None,
                force: bool = False) -> Path:
    """Make the pack ``name`` from a user's files (see the module docstring) and
    return its folder (``out``, default ``./domains/<name>``).

    ``task`` is a ``--task`` name (:data:`TASK_NAMES`) or a task kind. Raises
    :class:`~data_agent.domain.DomainError` with a one-line message for a bad
    name, an existing folder (unless ``force``), an unknown or uninstalled task
    kind, a bad field map, a bad row (file, line and field) and splits or seeds
    that share an item."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(f"pack name {name!r} must be one plain path component (letters, digits, '_', '-', '.'; "
                    f"not starting with '.' or '-')")
    kind = TASK_NAMES.get(task, task)
    if kind not in TASK_NAMES.values() and kind not in known_kinds():
        raise _fail(f"--task: unknown task {task!r} (expected one of: {', '.join(TASK_NAMES)})")
    if kind not in known_kinds():
        raise _fail(f"--task {task}: not supported (no task kind {kind!r} installed; installed: "
                    f"{', '.join(known_kinds())})")
    t = get_task(kind)
    if not t.row_fields or not all(k in t.row_fields for k in ("id", "problem", "answer")):
        raise _fail(f"task kind {kind!r} declares no row_fields (id, problem, answer): a pack cannot be made for it")
    fmap = parse_field_map(field_map, t)
    target = Path(out) if out is not None else Path.cwd() / "domains" / name
    if target.exists() and not force:
        raise _fail(f"{target}: already exists (use --force to replace it)")
    if out is None and not force and name in list_domains():
        raise _fail(f"a pack named {name!r} already exists ({load_domain(name, verify=False).path}); a new "
                    f"./domains/{name} would hide it: choose another name, or --force")

    val_rows = _read_split(Path(val), t, fmap)
    test_rows = _read_split(Path(test), t, fmap)
    seed_rows = _read_split(Path(seeds), t, fmap, seed=True) if seeds is not None else []
    vr, tr, sr = ([r for r, _ in rows] for rows in (val_rows, test_rows, seed_rows))
    both = _overlap(val_rows, test_rows, t)
    if both:
        raise _fail(f"{val} and {test} share {len(both)} item(s) (same id or problem): {_list_ids(both)}")
    bad_seeds = _overlap(seed_rows, val_rows + test_rows, t)
    if bad_seeds:
        raise _fail(f"{seeds}: {len(bad_seeds)} seed(s) are also evaluation items (same id or problem): "
                    f"{_list_ids(bad_seeds)}")

    idf, pf = t.row_fields["id"], t.row_fields["problem"]
    sources = sorted({str(item.source) for _, item in val_rows + test_rows})
    if sources == ["all"]:
        sources = []
    inst = " ".join(instruction.split()) if instruction else default_instruction(t)
    title = title or f"{name}: {t.answer_kind} ({kind})"
    fp = build_fingerprints([r[pf] for r in vr + tr], [r[pf] for r in sr], 8)
    sample, sample_from = _sample(t, inst, [v for _, v in seed_rows], set(fp["hashes"]), fp["n"])
    counts = {"val": len(vr), "test": len(tr), "seeds": len(sr)}

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        def jsonl(fname: str, rows: list[dict[str, Any]]) -> None:
            (tmp / fname).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                     encoding="utf-8")

        jsonl("val.jsonl", _order(vr, idf))
        jsonl("test.jsonl", _order(tr, idf))
        jsonl("seeds.jsonl", sr)
        (tmp / "decontamination.json").write_text(fingerprints_json(fp), encoding="utf-8")
        (tmp / "sample_submission.json").write_text(json.dumps(sample, indent=2, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
        (tmp / "description.md").write_text(
            _description(name, title, t, counts, sources, {"val": val, "test": test, "seeds": seeds}, sample_from,
                         inst), encoding="utf-8")
        files = {f: sha256_file(tmp / f) for f in ("val.jsonl", "test.jsonl", "seeds.jsonl", "sample_submission.json",
                                                   "description.md", "decontamination.json")}
        skills = ([{"name": s, "subject": name, "description": f"{t.answer_kind} like the pack's '{s}' problems",
                    "sources": [s]} for s in sources]
                  or [{"name": "all", "subject": name, "description": f"{t.answer_kind} like the pack's problems",
                       "sources": ["all"]}])
        manifest: dict[str, Any] = {
            "name": name, "title": title, "instruction": inst, "description": "description.md",
            "scorer": {"kind": kind}, "splits": {"val": "val.jsonl", "test": "test.jsonl"}, "seeds": "seeds.jsonl",
            "sample_submission": "sample_submission.json", "decontamination": {"file": "decontamination.json", "n": 8},
            "sources": {s: name for s in (sources or ["all"])}, "skills": skills, "files": files, "counts": counts}
        if license_name:
            manifest["license_name"] = str(license_name)
        (tmp / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        load_domain(tmp, verify=True)  # the pack loads as any other would
        write_fingerprints(tmp)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- fingerprints

FINGERPRINTS_FILE = "fingerprints.json"


def fingerprint_inputs(dom: Any, reason: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """What a pack's fingerprints are built from: ``(id, split, input)`` of every
    validation and test item as the student sees it (the test split read once,
    under an unsealed block giving ``reason``), and the seeds' problem and
    solution texts (teacher context, which the wire audit's test n-grams leave out)."""
    from .domain import unsealed_test

    with unsealed_test(reason):
        items = ([(it.id, "val", it.input) for it in dom.val_items()]
                 + [(it.id, "test", it.input) for it in dom.test_items()])
    seeds = []
    for row in dom.seeds():
        view = dom.task.seed_view(row)
        seeds.append(f"{view.get('problem', '')}\n{view.get('solution', '')}")
    return items, seeds


def write_fingerprints(pack_dir: Path, embed: Any = None) -> dict[str, Any]:
    """Build ``fingerprints.json`` (:mod:`data_agent.fingerprints`) from the
    pack's validation and test items as the student sees them, and name it in
    ``pack.json`` (``decontamination.fingerprints``, with its sha256). Reads the
    test split once, under an unsealed block that says why. Returns the counts."""
    from . import fingerprints

    pack_dir = Path(pack_dir)
    dom = load_domain(pack_dir, verify=True)
    items, seeds = fingerprint_inputs(dom, "building the pack's per-item decontamination fingerprints")
    fp = fingerprints.build(items, embed, seed_texts=seeds)
    path = pack_dir / FINGERPRINTS_FILE
    path.write_text(json.dumps(fp, separators=(",", ":")) + "\n", encoding="utf-8")
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    manifest["decontamination"]["fingerprints"] = FINGERPRINTS_FILE
    manifest["files"][FINGERPRINTS_FILE] = sha256_file(path)
    (pack_dir / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    load_domain(pack_dir, verify=True).fingerprints  # noqa: B018  (it loads)
    return {"items": len(items), "val": sum(1 for _, s, _ in items if s == "val"),
            "test": sum(1 for _, s, _ in items if s == "test")}


# --------------------------------------------------------------------------- listing


def domain_summaries() -> list[dict[str, Any]]:
    """One entry per pack under ``domains/``: name, title, task kind, scoring rule,
    split sizes and licence (``license_name``, else the licence file's name);
    a pack that does not load has ``error`` instead."""
    out = []
    for name in list_domains():
        try:
            d = load_domain(name, verify=False)
            task = d.task
        except DomainError as e:  # one broken pack does not hide the others
            out.append({"name": name, "error": str(e)})
            continue
        m = d.manifest
        counts = m.get("counts") or {}
        out.append({"name": name, "title": m.get("title", ""), "task": task.kind, "rule": task.rule_summary,
                    "val": counts.get("val"), "test": counts.get("test"), "seeds": counts.get("seeds"),
                    "license": str(m.get("license_name") or m.get("license") or "")})
    return out
