"""``openai``: any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server...).

The official ``openai`` client does the HTTP work, including retries: connection errors,
408/409/429 and 5xx are retried ``max_retries`` times with exponential backoff that honours
``Retry-After``. This module only shapes the request and turns every failure into a one-line
``BackendError`` that names the server and model and never the API key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai
from pydantic import ValidationError

from assistant.backends.base import ChatModel, Completion, Message, Usage
from assistant.backends.llm import LLMBackend
from assistant.errors import BackendError
from assistant.settings import Settings

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
# Local servers need no key, but the client refuses to start without one.
PLACEHOLDER_KEY = "no-key-needed"
_DETAIL_CHARS = 160


class OpenAIChatModel(ChatModel):
    """Chat through an OpenAI-compatible ``/chat/completions`` endpoint, streamed."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.model = settings.openai.model
        self.base_url = (settings.openai.base_url or OPENAI_DEFAULT_URL).rstrip("/")
        self.timeout = settings.openai.timeout
        self.max_retries = settings.openai.max_retries
        secret = settings.openai.api_key
        key = secret.get_secret_value() if secret is not None else ""
        if not key:
            if settings.openai.base_url is None:
                raise BackendError(
                    "the openai backend needs an API key for "
                    f"{OPENAI_DEFAULT_URL}: set OPENAI_API_KEY, or set openai_base_url to a "
                    "local OpenAI-compatible server (Ollama, vLLM, llama.cpp server)"
                )
            key = PLACEHOLDER_KEY
        # Kept only to scrub it from server messages that echo it back; too short to matter
        # (and to replace safely) below four characters.
        self._secret = key if len(key) >= 4 else None
        # Only send stream_options until a server says it does not know them.
        self._stream_options = True
        self._client = self._make_client(key)

    def _make_client(self, key: str) -> openai.OpenAI:
        error: BackendError | None = None
        try:
            return openai.OpenAI(
                api_key=key,
                # Explicit, so a stray OPENAI_BASE_URL cannot override the settings.
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
        except (openai.OpenAIError, ValueError, TypeError) as exc:
            error = BackendError(
                f"cannot use openai_base_url {self.where!r} (model {self.model!r}): "
                f"{self._scrub(str(exc))}; check openai_base_url"
            )
        # Raised out here so it does not chain the client's exception.
        raise error

    def __repr__(self) -> str:
        return f"OpenAIChatModel(base_url={self.where!r}, model={self.model!r})"

    @property
    def where(self) -> str:
        """The base URL without any ``user:password@`` part, for messages."""
        parts = urlsplit(self.base_url)
        if parts.username is None and parts.password is None:
            return self.base_url
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            request["stop"] = list(stop)
        return Completion(self._run(request))

    def _run(self, request: dict[str, Any]) -> Iterator[str | Usage]:
        # The BackendError is raised outside the ``except`` block so that it carries no
        # chained client exception: those hold the request, Authorization header included.
        error: BackendError | None = None
        try:
            yield from self._stream(request)
        except openai.OpenAIError as exc:
            error = self._describe(exc)
        except (json.JSONDecodeError, ValidationError, AttributeError, TypeError,
                IndexError, KeyError) as exc:
            error = self._odd(f"a streamed chunk could not be read ({type(exc).__name__})")
        if error is not None:
            raise error

    def _stream(self, request: dict[str, Any]) -> Iterator[str | Usage]:
        chunks = self._open(request)
        received = 0
        try:
            for chunk in chunks:
                received += 1
                if chunk.usage is not None:
                    yield Usage(
                        prompt_tokens=chunk.usage.prompt_tokens,
                        completion_tokens=chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices or ():
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        yield text
        finally:
            # Runs on GeneratorExit too: closing the response stops the server generating.
            chunks.close()
        if received == 0:
            kind = chunks.response.headers.get("content-type", "no content type")
            raise _OddResponse(f"no streamed chunks arrived ({kind})")

    def _open(self, request: dict[str, Any]) -> openai.Stream[Any]:
        """Start the streamed completion, dropping ``stream_options`` if the server rejects it."""
        if self._stream_options:
            try:
                return self._client.chat.completions.create(
                    **request, stream_options={"include_usage": True}
                )
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if "stream_options" not in str(exc) and "include_usage" not in str(exc):
                    raise
                self._stream_options = False
        return self._client.chat.completions.create(**request)

    # Error messages ------------------------------------------------------------------------

    def _describe(self, exc: openai.OpenAIError) -> BackendError:
        url, model = self.where, self.model
        retried = self._retried()
        if isinstance(exc, _OddResponse):
            return self._odd(str(exc))
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                f"the server at {url} did not answer within {self.timeout:g} s{retried} "
                f"(model {model!r}): raise request_timeout, or use a smaller or faster model"
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                f"cannot reach the OpenAI-compatible server at {url}{retried}: is it running? "
                "check openai_base_url"
            )
        if isinstance(exc, openai.APIStatusError):
            return self._describe_status(exc)
        if isinstance(exc, openai.APIResponseValidationError):
            return self._odd("the reply did not match the OpenAI format")
        if isinstance(exc, openai.APIError):
            # An ``error`` object sent in the middle of a stream.
            return BackendError(
                f"the server at {url} reported an error while answering with model {model!r}: "
                f"{self._detail(exc)}; check the server's logs"
            )
        return BackendError(
            f"the OpenAI client failed for {url} (model {model!r}): {self._detail(exc)}"
        )

    def _describe_status(self, exc: openai.APIStatusError) -> BackendError:
        url, model, status = self.where, self.model, exc.status_code
        detail = self._detail(exc)
        retried = self._retried()
        if status in (401, 403):
            return BackendError(
                f"the server at {url} rejected the API key ({status}): set OPENAI_API_KEY "
                "(or openai_api_key) to a key it accepts"
            )
        if status == 404:
            if exc.code == "model_not_found" or "model" in detail.lower():
                return BackendError(
                    f"model {model!r} was not found at {url} (404): set openai_model to a model "
                    f"the server offers (listed at {url}/models)"
                )
            return BackendError(
                f"{url} has no chat completions endpoint (404): check openai_base_url "
                "(it usually ends in /v1)"
            )
        if status == 429:
            if exc.code == "insufficient_quota":
                return BackendError(
                    f"the account behind the API key has no quota left at {url} (429): "
                    "check the plan and billing, or use another key"
                )
            return BackendError(
                f"the server at {url} is rate limiting requests (429){retried}: wait a minute, "
                "lower the request rate or raise max_retries"
            )
        if status >= 500:
            return BackendError(
                f"the server at {url} failed with an internal error ({status}){retried} "
                f"for model {model!r}: {detail}; check the server's logs or try again later"
            )
        return BackendError(
            f"the server at {url} refused the request ({status}) for model {model!r}: {detail}; "
            "check openai_model, max_answer_tokens and temperature"
        )

    def _retried(self) -> str:
        n = self.max_retries
        return "" if n == 0 else f" after {n} retr{'y' if n == 1 else 'ies'}"

    def _odd(self, what: str) -> BackendError:
        return BackendError(
            f"the server at {self.where} sent a malformed response for model {self.model!r}: "
            f"{what}; is openai_base_url an OpenAI-compatible /v1 endpoint?"
        )

    def _detail(self, exc: openai.OpenAIError) -> str:
        """The server's own explanation: one line, short, with the key scrubbed out."""
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        body = getattr(exc, "body", None)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        text = re.sub(r"\s+", " ", self._scrub(message)).strip().rstrip(".")
        if len(text) > _DETAIL_CHARS:
            text = text[: _DETAIL_CHARS - 1] + "…"
        return text or "no details"

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


class _OddResponse(openai.OpenAIError):
    """The server answered 200 but not with an OpenAI stream."""


def create(settings: Settings) -> LLMBackend:
    return LLMBackend(OpenAIChatModel(settings), settings)
