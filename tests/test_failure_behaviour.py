"""One writer per run directory, atomic writes with unique temporary files,
all-or-nothing pool appends and the repair of a torn pool tail."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_agent import records as records_mod
from data_agent.config import load_config
from data_agent.errors import DataAgentError
from data_agent.loop import EVENTS_FILE, LOCK_FILE, _repair_pool, resume, run_lock, specialize
from data_agent.records import (JsonlAppender, Record, atomic_write_text, read_pool, temp_sibling,
                                truncate_torn_tail)
from data_agent.ui import Reporter

ROOT = Path(__file__).resolve().parent.parent


def rows(*ids: str) -> list[dict]:
    return [Record("i", f"in {i}", "o", id=i).to_dict() for i in ids]


def parsed_ids(path: Path) -> list[str]:
    """Every line must parse: no fragment anywhere."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line)["id"] for line in text.splitlines()]


# ---- one writer per run directory


def fake_run_dir(d: Path) -> Path:
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"domain": "science"}))
    (d / "state.json").write_text(json.dumps({"status": "running", "steps": {}, "order": []}))
    return d


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    d = fake_run_dir(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    with run_lock(d):
        assert (d / LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(DataAgentError, match=rf"in use by another data-agent process \(pid {os.getpid()}\)"):
            resume(d, overrides={"max_calls": 5})
        with pytest.raises(DataAgentError, match=rf"pid {os.getpid()}"):
            specialize(load_config("smoke"), run_dir=d)
        with pytest.raises(DataAgentError, match=rf"pid {os.getpid()}"):
            with run_lock(d):
                pass
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.name != LOCK_FILE}
    assert after == before, "the refused writer touched the run directory"
    with run_lock(d):  # released on exit
        pass


def test_specialize_on_a_finished_run_still_points_to_resume(tmp_path):
    d = fake_run_dir(tmp_path / "run")
    with pytest.raises(DataAgentError, match="already holds a run: use `data-agent resume"):
        specialize(load_config("smoke"), run_dir=d)


def test_lock_is_free_after_sigkill_of_its_holder(tmp_path):
    d = tmp_path / "run"
    code = ("import sys, time; from pathlib import Path; from data_agent.loop import run_lock\n"
            "with run_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(d)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(DataAgentError, match=rf"pid {proc.pid}\)"):
            with run_lock(d):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with run_lock(d):  # the kernel dropped the dead holder's lock
        assert (d / LOCK_FILE).read_text().strip() == str(os.getpid())


# ---- atomic writes


def test_atomic_write_uses_unique_temp_files_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    fd1, t1 = temp_sibling(target)
    fd2, t2 = temp_sibling(target)
    os.close(fd1), os.close(fd2)
    assert t1 != t2 and t1.parent == t2.parent == tmp_path and t1.name.startswith("state.json.")
    t1.unlink(), t2.unlink()

    atomic_write_text(target, "old\n")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600

    def fail(*a):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(records_mod.os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"], "a temporary file was left behind"


# ---- pool appends


def test_append_truncates_a_torn_tail_and_reports_it(tmp_path):
    pool = tmp_path / "pool.jsonl"
    JsonlAppender(pool).append(rows("1", "2"))
    with open(pool, "ab") as f:
        f.write(b'{"instruction": "i", "input": "torn')  # a crash mid-append
    assert [r.id for r in read_pool(pool)] == ["1", "2"]
    seen = []
    JsonlAppender(pool, on_truncate=lambda p, n: seen.append((p, n))).append(rows("3"))
    assert parsed_ids(pool) == ["1", "2", "3"]
    assert seen == [(pool, len(b'{"instruction": "i", "input": "torn'))]


def test_truncate_torn_tail(tmp_path):
    p = tmp_path / "x.jsonl"
    assert truncate_torn_tail(p) == 0  # missing
    p.write_bytes(b"")
    assert truncate_torn_tail(p) == 0
    p.write_bytes(b"no newline at all")
    assert truncate_torn_tail(p) == 17 and p.read_bytes() == b""
    big = b'{"a": 1}\n' + b"x" * 200_000  # a fragment longer than one read chunk
    p.write_bytes(big)
    assert truncate_torn_tail(p) == 200_000 and p.read_bytes() == b'{"a": 1}\n'
    assert truncate_torn_tail(p) == 0 and p.read_bytes() == b'{"a": 1}\n'


@pytest.mark.parametrize("how", ["raise-mid-write", "short-write-then-enospc"])
def test_failed_append_leaves_the_file_as_it_was(tmp_path, monkeypatch, how):
    pool = tmp_path / "pool.jsonl"
    JsonlAppender(pool).append(rows("1", "2"))
    before = pool.read_bytes()
    real_write = os.write
    calls = [0]

    def failing_write(fd, data):
        calls[0] += 1
        if how == "raise-mid-write" or calls[0] > 1:
            if how == "raise-mid-write":
                real_write(fd, bytes(data[: len(data) // 2]))  # part of it reached the file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, bytes(data[: len(data) // 2]))  # a short write

    monkeypatch.setattr(records_mod.os, "write", failing_write)
    with pytest.raises(OSError, match="No space"):
        JsonlAppender(pool).append(rows("3", "4"))
    assert pool.read_bytes() == before
    monkeypatch.setattr(records_mod.os, "write", real_write)
    JsonlAppender(pool).append(rows("3"))
    assert parsed_ids(pool) == ["1", "2", "3"]


def test_resume_repair_logs_the_dropped_bytes(tmp_path):
    run_dir = tmp_path / "run"
    pool = run_dir / "iter-01" / "pool.jsonl"
    JsonlAppender(pool).append(rows("1"))
    with open(pool, "ab") as f:
        f.write(b'{"id": "2", "ins')
    msgs = []

    class R(Reporter):
        def info(self, msg):
            msgs.append(msg)

    _repair_pool(run_dir, pool, R())
    assert parsed_ids(pool) == ["1"]
    (event,) = [json.loads(line) for line in (run_dir / EVENTS_FILE).read_text().splitlines()]
    assert event["event"] == "torn-tail-truncated" and event["file"] == "iter-01/pool.jsonl"
    assert event["bytes_dropped"] == len(b'{"id": "2", "ins') and event["at"]
    assert msgs and "torn last line" in msgs[0]
    _repair_pool(run_dir, pool, R())  # a whole file: nothing to do, nothing logged
    assert len((run_dir / EVENTS_FILE).read_text().splitlines()) == 1


# ---- models built once in the shared home


def test_a_shared_student_is_built_once_while_others_wait(tmp_path):
    import threading

    from data_agent.models import _build_once, _exclusive

    target = tmp_path / "students" / "tiny"
    target.parent.mkdir(parents=True)
    built = []

    def build(t):
        built.append(t)
        return t

    result = []
    with _exclusive(target.with_name("tiny.lock")):  # another process is building it
        th = threading.Thread(target=lambda: result.append(_build_once(target, build)))
        th.start()
        time.sleep(0.3)
        assert th.is_alive() and not result, "did not wait for the builder"
        target.mkdir()
        (target / "config.json").write_text("{}")
    th.join(10)
    assert result == [target] and built == [], "built a second time"
    other = tmp_path / "students" / "other"
    assert _build_once(other, build) == other and built == [other]


@pytest.mark.slow
def test_ctrl_c_exits_130_with_the_resume_hint_and_the_run_resumes(tmp_path, da_home):
    run_dir = tmp_path / "interrupted"
    env = {**os.environ, "DATA_AGENT_HOME": str(da_home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "data_agent.cli", "specialize", "--preset", "smoke",
                             "--run-dir", str(run_dir)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    deadline = time.time() + 240
    while time.time() < deadline and not (run_dir / "iter-01" / "pool.jsonl").exists():
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be interrupted")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "data-agent resume" in err, err[-2000:]
    assert json.loads((run_dir / "state.json").read_text())["status"] != "done"
    cp = subprocess.run([sys.executable, "-m", "data_agent.cli", "resume", str(run_dir)], env=env, cwd=ROOT,
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert json.loads((run_dir / "state.json").read_text())["status"] == "done"


def test_a_swallowed_ctrl_c_still_stops_the_run_at_the_next_step(tmp_path):
    """The command line's SIGINT handler remembers the interrupt: if a library
    discards the KeyboardInterrupt, the next finished step (saved first) raises
    it again; and a teacher call on the event loop is interrupted at once."""
    import os
    import signal
    import threading
    import time

    from data_agent import ui
    from data_agent.generators.engine.runner import run_interruptible
    from data_agent.loop import RunState

    state = RunState(tmp_path)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh process has it
    try:
        ui.INTERRUPTED.set()
        with pytest.raises(KeyboardInterrupt):
            state.mark("base/eval-val", {"accuracy": 0.0})
        assert "base/eval-val" in RunState(tmp_path).data["steps"]  # saved before the stop
        ui.INTERRUPTED.clear()

        async def busy():
            t = time.time()
            while time.time() - t < 3:
                pass
            return "finished"

        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            run_interruptible(busy())
        assert ui.INTERRUPTED.is_set()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        ui.INTERRUPTED.clear()
        signal.signal(signal.SIGINT, previous)
