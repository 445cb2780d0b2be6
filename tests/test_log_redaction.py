"""The CLI's process-wide log redaction: what data-agent writes to stderr never carries an API key.

Each check runs in a fresh interpreter, as the CLI does: ``cli._setup_env()``
(what ``data-agent`` runs first), then libraries log the way they do.
"""

import os
import subprocess
import sys
import textwrap

import pytest

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
"""An OpenAI-shaped key, set as OPENAI_API_KEY."""
PLAIN = "plain-secret-value-42"
"""A key with no recognisable shape: only known as the value of EXAMPLE_API_KEY."""


def _run(body: str, setup: bool = True) -> subprocess.CompletedProcess:
    code = "import logging, sys, warnings\n"
    if setup:
        code += "from data_agent import cli\ncli._setup_env()\n"
    code += textwrap.dedent(body)
    env = {**os.environ, "OPENAI_API_KEY": KEY, "EXAMPLE_API_KEY": PLAIN, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def _assert_redacted(cp: subprocess.CompletedProcess, *markers: str) -> None:
    out = cp.stdout + cp.stderr
    for m in markers:
        assert m in cp.stderr, f"{m!r} was not written at all:\n{cp.stderr}"
    assert KEY not in out and KEY[:20] not in out, out
    assert PLAIN not in out, out
    assert "[REDACTED]" in cp.stderr


LIBRARY_LOGS = {
    # no handler configured: logging.lastResort writes WARNING records to stderr
    "openai warning, no handler": 'logging.getLogger("openai").warning("auth %s", "{key}")',
    "httpx error, no handler": 'logging.getLogger("httpx").error("request failed: Authorization: Bearer {key}")',
    "child logger": 'logging.getLogger("openai._base_client").warning("retrying with key %s", "{plain}")',
    "any library": 'logging.getLogger("somelib.sub").warning("config %r", {{"api_key": "{plain}"}})',
    "traceback": 'try:\n    raise RuntimeError("bad key {key}")\nexcept RuntimeError:\n'
                 '    logging.getLogger("anthropic").exception("call failed")',
    "warning": 'warnings.simplefilter("always")\nwarnings.warn("deprecated: api_key={plain} / {key}")',
    # handlers added after the CLI's setup
    "basicConfig afterwards": 'logging.basicConfig(level=logging.INFO)\n'
                              'logging.getLogger("httpx").error("auth %s", "{key}")',
    "library's own handler": 'h = logging.StreamHandler(sys.stderr)\n'
                             'lg = logging.getLogger("mylib"); lg.addHandler(h); lg.propagate = False\n'
                             'lg.warning("key=%s", "{plain}")',
    "warning routed through logging": 'logging.captureWarnings(True)\n'
                                      'warnings.warn("routed: api_key={plain} / {key}")',
}
"""What libraries write, in the order they run in one process (later ones add handlers)."""


def test_library_log_lines_and_warnings_are_redacted():
    body = ""
    for name, code in LIBRARY_LOGS.items():
        body += f"print({'=== ' + name!r}, file=sys.stderr, flush=True)\n" + code.format(key=KEY, plain=PLAIN) + "\n"
    cp = _run(body + "print('=== end', file=sys.stderr)\n")
    assert cp.returncode == 0, cp.stderr
    assert KEY not in cp.stdout + cp.stderr and PLAIN not in cp.stdout + cp.stderr, cp.stderr
    parts = cp.stderr.split("=== ")
    written = {p.split("\n", 1)[0]: p.split("\n", 1)[1] for p in parts[1:]}
    assert list(written) == [*LIBRARY_LOGS, "end"], cp.stderr
    for name in LIBRARY_LOGS:
        assert "[REDACTED]" in written[name], (name, cp.stderr)  # written, and redacted
    assert "RuntimeError: bad key [REDACTED]" in written["traceback"]
    assert "UserWarning: deprecated" in written["warning"]
    assert "py.warnings" in written["warning routed through logging"]


def test_uncaught_traceback_is_redacted():
    cp = _run(f'raise RuntimeError("connection refused for {KEY} / {PLAIN}")\n')
    assert cp.returncode == 1
    _assert_redacted(cp, "Traceback", "RuntimeError: connection refused for")


def test_without_the_setup_the_key_goes_out():
    """The checks above can fail: without the CLI's setup the same log line carries the key."""
    cp = _run(f'logging.getLogger("openai").warning("auth %s", "{KEY}")\n', setup=False)
    assert KEY in cp.stderr


def test_setup_is_idempotent_and_keeps_records_intact():
    cp = _run(f'''
        cli._setup_env(); cli._setup_env()
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)
        logging.getLogger().addHandler(Keep())
        logging.getLogger("x").warning("%d%% of %s", 50, "{KEY}", extra={{"tag": 7}})
        (r,) = records
        assert r.getMessage() == "50% of [REDACTED]", r.getMessage()
        assert r.tag == 7 and r.name == "x" and r.levelno == logging.WARNING
        print("ok", file=sys.stderr)
    ''')
    assert cp.returncode == 0, cp.stderr
    assert "ok" in cp.stderr and KEY not in cp.stderr
