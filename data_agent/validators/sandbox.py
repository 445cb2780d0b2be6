"""Run a small Python function on an input in a sandboxed subprocess.

:func:`run_python` runs ``code`` (which defines the function) and then evaluates
``call`` (e.g. ``f([1, 2])``) in a fresh ``python -I -S -B`` process (isolated:
no environment variables, no user site, no ``site`` module, no bytecode
written), in an empty temporary working directory that is removed afterwards,
and returns the ``repr`` of the value, or a clear error. The child, before it
runs the code:

* sets ``resource`` limits: address space (``memory_mb``), CPU time
  (``timeout_s`` rounded up, plus one second), file size (64 KiB), no core
  files and, where the kernel allows it, no new processes (``RLIMIT_NPROC``);
* installs an audit hook (:func:`sys.addaudithook`, which cannot be removed)
  that refuses every ``socket.*`` event (no network, not even name lookups),
  starting processes (``subprocess.Popen``, ``os.system``, ``os.exec*``,
  ``os.posix_spawn``, ``os.spawn*``, ``os.fork``), signals (``os.kill``),
  ``ctypes``, and any write, removal, rename or permission change of a path
  outside the temporary directory (``open`` for writing included); a refusal
  raises ``PermissionError`` in the code and the run is reported as
  ``forbidden`` even if the code catches it.

The parent enforces a wall-clock limit (``timeout_s``) and kills the child's
whole process group when it runs over. Standard output written by the code is
discarded; the result travels on a line marked with a random token.

This guards against mistakes in generated code (an endless loop, a memory
blow-up, a stray write), not against a determined attacker: the audit hook is
a CPython mechanism, not an operating-system boundary.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

__all__ = ["SandboxError", "SandboxResult", "run_python"]

FILE_LIMIT_BYTES = 64 * 1024
MAX_RESULT_CHARS = 100_000


class SandboxError(RuntimeError):
    """A sandboxed run that did not return a value (``status`` says why)."""

    def __init__(self, result: "SandboxResult"):
        super().__init__(result.error)
        self.result = result


@dataclass(frozen=True)
class SandboxResult:
    status: str
    """``ok``, ``timeout``, ``memory``, ``forbidden``, ``exception`` or ``crashed``."""
    value: str | None = None
    """The ``repr`` of the returned value (``status == "ok"``)."""
    error: str = ""
    """One line saying what went wrong (empty when ``ok``)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def unwrap(self) -> str:
        """The value's ``repr``; raises :class:`SandboxError` when the run failed."""
        if not self.ok or self.value is None:
            raise SandboxError(self)
        return self.value


# The child's program. It reads {"code", "call", "token", "memory_mb", "cpu_s", "fsize"} from stdin.
_CHILD = r'''
import io, json, os, sys, resource
cfg = json.loads(sys.stdin.read())
out = sys.stdout
token = cfg["token"]
def report(**kw):
    out.write("\n" + token + json.dumps(kw) + "\n")
    out.flush()
def limit(which, value):
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass
limit(resource.RLIMIT_AS, cfg["memory_mb"] * 1024 * 1024)
limit(resource.RLIMIT_CPU, cfg["cpu_s"])
limit(resource.RLIMIT_FSIZE, cfg["fsize"])
limit(resource.RLIMIT_CORE, 0)
if hasattr(resource, "RLIMIT_NPROC"):
    limit(resource.RLIMIT_NPROC, 0)
root = os.path.realpath(os.getcwd())
refused = []
BLOCKED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
           "os.kill", "os.killpg", "os.startfile", "pty.spawn", "ctypes.", "socket.", "webbrowser.open")
PATH_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.replace": 2, "os.chmod": 1,
               "os.chown": 1, "os.truncate": 1, "os.symlink": 2, "os.link": 2, "os.utime": 1,
               "shutil.rmtree": 1, "shutil.copyfile": 2, "shutil.move": 2, "os.chdir": 1}
def outside(p):
    if isinstance(p, int):
        return False  # an already open file descriptor
    try:
        p = os.fsdecode(p)
    except TypeError:
        return True
    full = os.path.realpath(p)
    return not (full == root or full.startswith(root + os.sep))
def refuse(event):
    refused.append(event)
    raise PermissionError(f"sandbox: {event} refused")
def hook(event, args):
    if event.startswith(BLOCKED):
        refuse(event)
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))
        if writing and outside(path):
            refuse("open for writing outside the sandbox directory")
    elif event in PATH_EVENTS:
        for p in tuple(args)[:PATH_EVENTS[event]]:
            if outside(p):
                refuse(f"{event} outside the sandbox directory")
sys.addaudithook(hook)
sys.stdout = sys.stderr = io.StringIO()
try:
    ns = {"__name__": "__sandbox__"}
    exec(compile(cfg["code"], "<sandbox>", "exec"), ns)
    value = eval(compile(cfg["call"], "<call>", "eval"), ns)
    text = repr(value)
except MemoryError:
    report(status="memory", error="memory limit exceeded")
except RecursionError as e:
    report(status="exception", error=f"RecursionError: {e}")
except BaseException as e:
    if refused:
        report(status="forbidden", error=f"forbidden: {refused[0]}")
    else:
        report(status="exception", error=f"{type(e).__name__}: {str(e)[:300]}")
else:
    if refused:
        report(status="forbidden", error=f"forbidden: {refused[0]}")
    else:
        report(status="ok", value=text)
'''


def run_python(code: str, call: str, timeout_s: float = 3.0, memory_mb: int = 256) -> SandboxResult:
    """Run ``code`` then evaluate ``call`` in a sandboxed subprocess (see the module
    docstring); the ``repr`` of the value or a one-line error, never an exception
    for anything the code does."""
    if timeout_s <= 0 or memory_mb < 32:
        raise ValueError(f"run_python: timeout_s must be > 0 and memory_mb >= 32, got {timeout_s}, {memory_mb}")
    token = "@@sandbox-" + secrets.token_hex(8) + "@@"
    cfg = {"code": str(code), "call": str(call), "token": token, "memory_mb": int(memory_mb),
           "cpu_s": int(timeout_s) + 2, "fsize": FILE_LIMIT_BYTES}
    env = {"PATH": os.defpath, "PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8"}
    with tempfile.TemporaryDirectory(prefix="data-agent-sandbox-") as cwd:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", "-c", _CHILD], cwd=cwd, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(json.dumps(cfg).encode("utf-8"), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return SandboxResult("timeout", error=f"timeout: still running after {timeout_s:g} s (killed)")
        finally:
            if proc.poll() is None:
                _kill_group(proc)
                proc.wait()
    text = stdout.decode("utf-8", "replace")
    marked = [ln for ln in text.splitlines() if ln.startswith(token)]
    if marked:
        try:
            rep = json.loads(marked[-1][len(token):])
        except ValueError:
            rep = None
        if isinstance(rep, dict) and rep.get("status") in ("ok", "memory", "forbidden", "exception"):
            value = rep.get("value")
            if rep["status"] == "ok" and isinstance(value, str):
                if len(value) > MAX_RESULT_CHARS:
                    return SandboxResult("exception", error=f"result too large ({len(value):,} characters)")
                return SandboxResult("ok", value=value)
            return SandboxResult(rep["status"], error=str(rep.get("error") or rep["status"]))
    rc = proc.returncode
    if rc is not None and rc < 0:
        sig = -rc
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return SandboxResult("timeout", error=f"timeout: CPU limit reached (signal {sig})")
        return SandboxResult("crashed", error=f"crashed: killed by signal {sig}")
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no result"]
    if "MemoryError" in tail[0]:
        return SandboxResult("memory", error="memory limit exceeded")
    return SandboxResult("crashed", error=f"crashed (exit {rc}): {tail[0][:300]}")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass
