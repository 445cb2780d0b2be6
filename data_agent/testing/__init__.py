"""Test helpers: a local, deterministic emulator of the OpenAI and Anthropic HTTP APIs.

Names are loaded lazily so that ``python -m data_agent.testing.emulator`` does not
import the module twice.
"""

from typing import Any

__all__ = ["BatchConfig", "FaultConfig", "ProviderEmulator", "default_responder", "request_content_key"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
