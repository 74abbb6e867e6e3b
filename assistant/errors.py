"""Errors a user can act on. Each carries a one-line message that names the input and the fix."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits non-zero."""

    exit_code = 1


class ConfigError(AssistantError):
    """A setting, config file or environment variable has an invalid value."""

    exit_code = 2


class InputError(AssistantError):
    """A path, file or argument given by the user cannot be used."""

    exit_code = 2


class StorageError(AssistantError):
    """The data directory or vector store cannot be opened or written."""


class BackendError(AssistantError):
    """An LLM backend failed (unreachable, timeout, rejected key, rate limit...)."""


class EmbedderError(AssistantError):
    """The embedder failed (embedding server unreachable, unknown model, wrong dimension...)."""


class ModelFileError(AssistantError):
    """The packaged model weights are missing or corrupt."""
