import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def da_home(tmp_path_factory):
    """A data-agent home shared by the tests of one session (student cache, eval cache)."""
    home = Path(os.environ.get("DATA_AGENT_TEST_HOME") or tmp_path_factory.mktemp("da-home"))
    os.environ["DATA_AGENT_HOME"] = str(home)
    return home


@pytest.fixture
def science_copy(tmp_path):
    """A writable copy of the science pack."""
    dst = tmp_path / "science"
    shutil.copytree(ROOT / "domains" / "science", dst)
    return dst


class RecordingResponder:
    """An emulator responder that keeps the messages of every request it answers."""

    def __init__(self, inner):
        self.inner = inner
        self.seen: list[list[dict]] = []

    def __call__(self, messages, schema):
        self.seen.append(messages)
        return self.inner(messages, schema)

    def user_prompts(self) -> list[str]:
        return [next(m["content"] for m in msgs if m["role"] == "user") for msgs in self.seen]


def emulated_smoke_run(tmp_path: Path, monkeypatch, key: str, responder, cache_dir: Path | None = None,
                       **settings):
    """``specialize --preset smoke`` into ``tmp_path/run`` with the openai-compatible
    teacher served by the loopback emulator (``key``, answering with ``responder``);
    ``settings`` are set on the run config (``domain=``, ``n_records=``...), and
    ``cache_dir`` gives the teacher a response cache of its own. The emulator must
    have been asked; returns ``(run_dir, cfg, the emulator's chat-completion calls)``."""
    from data_agent.config import load_config
    from data_agent.loop import specialize
    from data_agent.testing.emulator import ProviderEmulator

    monkeypatch.setenv("OPENAI_API_KEY", key)
    with ProviderEmulator(api_key=key, responder=responder) as emu:
        cfg = load_config("smoke")
        cfg.teacher = f"openai-compatible:{emu.base_url_openai}@emu-model"
        for name, value in settings.items():
            setattr(cfg, name, value)
        if cache_dir is not None:
            cfg.teachers.cache_dir = str(cache_dir)
        run_dir = specialize(cfg, run_dir=tmp_path / "run")
        calls = emu.calls["openai.chat"]
    assert calls > 0
    return run_dir, cfg, calls
