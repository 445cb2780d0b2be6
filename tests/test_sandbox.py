"""The sandbox stops what generated code must not do; the parent survives and the next call works."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from data_agent.validators.sandbox import SandboxError, run_python

OK_CODE = "def f(xs):\n    return [x * x for x in xs]"


def _next_call_works() -> None:
    r = run_python(OK_CODE, "f([1, 2, 3])")
    assert r.ok and r.value == "[1, 4, 9]"


def test_a_value_comes_back_as_its_repr() -> None:
    r = run_python("def f(s):\n    print('noise')\n    return (s.upper(), {'a': 1}, 1.5)", "f('ab')")
    assert r.ok and r.value == "('AB', {'a': 1}, 1.5)" and r.error == ""
    assert r.unwrap() == "('AB', {'a': 1}, 1.5)"


def test_an_infinite_loop_is_stopped() -> None:
    t0 = time.monotonic()
    r = run_python("def f():\n    while True:\n        pass", "f()", timeout_s=1.0)
    assert r.status == "timeout" and "timeout" in r.error
    assert time.monotonic() - t0 < 5
    _next_call_works()


@pytest.mark.parametrize("code", [
    "def f():\n    return 'a' * (10 ** 10)",
    "def f():\n    x = []\n    while True:\n        x.append([0] * 100000)",
])
def test_a_memory_bomb_is_stopped(code: str) -> None:
    r = run_python(code, "f()", memory_mb=128)
    assert r.status == "memory", r
    with pytest.raises(SandboxError, match="memory"):
        r.unwrap()
    _next_call_works()


@pytest.mark.parametrize("code", [
    "import socket\ndef f():\n    return socket.socket()",
    "import socket\ndef f():\n    socket.create_connection(('127.0.0.1', 9))",
    # caught by the code: still reported as forbidden
    "def f():\n    try:\n        import socket\n        socket.socket()\n    except Exception:\n        pass\n    return 1",
])
def test_a_socket_is_refused(code: str) -> None:
    r = run_python(code, "f()")
    assert r.status == "forbidden" and "socket" in r.error, r
    _next_call_works()


def test_a_write_outside_the_temp_dir_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    r = run_python(f"def f():\n    open({str(target)!r}, 'w').write('x')\n    return 1", "f()")
    assert r.status == "forbidden" and "outside" in r.error, r
    assert not target.exists()
    r = run_python(f"import os\ndef f():\n    os.remove({str(tmp_path)!r})", "f()")
    assert r.status == "forbidden"
    # inside its own directory the code may write and read back
    r = run_python("def f():\n    open('t.txt', 'w').write('hi')\n    return open('t.txt').read()", "f()")
    assert r.ok and r.value == "'hi'"
    _next_call_works()


@pytest.mark.parametrize("code", ["import os\ndef f():\n    return os.system('true')",
                                  "import subprocess\ndef f():\n    return subprocess.run(['true'])"])
def test_processes_are_refused(code: str) -> None:
    r = run_python(code, "f()")
    assert r.status == "forbidden", r


def test_an_exception_is_a_one_line_error() -> None:
    r = run_python("def f(x):\n    return 1 / x", "f(0)")
    assert r.status == "exception" and r.error == "ZeroDivisionError: division by zero"
    r = run_python("def f(x):\n    return f(x)", "f(1)")
    assert r.status == "exception" and r.error.startswith("RecursionError")
    r = run_python("def f(:\n", "f()")
    assert r.status == "exception" and r.error.startswith("SyntaxError")
