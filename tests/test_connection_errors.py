"""A refused connection is reported as one, naming the URL without credentials,
over every transport of the SDK backends (aiohttp's wraps it in a timeout)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from data_agent.generators.teachers.anthropic_backend import AnthropicOptions, AnthropicTeacher
from data_agent.generators.teachers.base import RetryableError
from data_agent.generators.teachers.common import map_sdk_exc
from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher, OpenAIOptions, _aiohttp_http_client_class

from test_emulator_backends import make_request

KEY = "sk-" + "test-SECRET123"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: a connection is refused
    return port


def _teacher(kind: str, base_url: str):
    if kind == "anthropic":
        return AnthropicTeacher("claude-test", api_key=KEY, base_url=base_url, options=AnthropicOptions(timeout=5))
    if kind == "aiohttp" and _aiohttp_http_client_class() is None:
        pytest.skip("openai[aiohttp] is not installed")
    return OpenAIChatTeacher("gpt-test", api_key=KEY, base_url=base_url, options=OpenAIOptions(timeout=5),
                             transport=kind)


async def _ask(teacher) -> None:
    try:
        await teacher.generate_one(make_request(1))
    finally:
        await teacher.aclose()


@pytest.mark.parametrize("kind, path", [("httpx", "/v1/chat/completions"), ("aiohttp", "/v1/chat/completions"),
                                        ("anthropic", "/v1/messages")])
def test_a_refused_connection_says_so_and_names_the_url(closed_port: int, kind: str, path: str) -> None:
    base = f"http://127.0.0.1:{closed_port}" + ("/v1" if kind != "anthropic" else "")
    teacher = _teacher(kind, base)

    with pytest.raises(RetryableError) as e:
        asyncio.run(_ask(teacher))
    msg = str(e.value)
    assert "connection refused" in msg and "timed out" not in msg, msg
    assert f"http://127.0.0.1:{closed_port}{path}" in msg
    assert "SECRET123" not in msg


@pytest.mark.parametrize("kind", ["httpx", "anthropic"])
def test_the_url_in_the_message_has_no_credentials(closed_port: int, kind: str) -> None:
    base = f"http://user:hunter2@127.0.0.1:{closed_port}" + ("/v1" if kind != "anthropic" else "")
    teacher = _teacher(kind, base)
    with pytest.raises(RetryableError) as e:
        asyncio.run(_ask(teacher))
    msg = str(e.value)
    assert "connection refused" in msg and f"http://127.0.0.1:{closed_port}/" in msg, msg
    assert "hunter2" not in msg and "user" not in msg and "SECRET123" not in msg


def test_a_timeout_without_a_refusal_is_still_a_timeout() -> None:
    import httpx
    import openai

    req = httpx.Request("POST", "http://example.invalid/v1/chat/completions?api_key=abc")
    err = map_sdk_exc(openai, "openai", openai.APITimeoutError(request=req), KEY, 5.0)
    assert str(err) == "openai: request timed out (timeout=5.0s)"
    try:
        raise openai.APIConnectionError(request=req) from ConnectionRefusedError(111, "refused")
    except openai.APIConnectionError as e:
        err = map_sdk_exc(openai, "openai", e, KEY, 5.0)
    assert str(err).startswith("openai: connection refused at http://example.invalid/v1/chat/completions (")
    assert "abc" not in str(err)
