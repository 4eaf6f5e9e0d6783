"""The exception tree.

DuskwatchError                 every error a user can cause and fix
├── ConfigError                a bad config file or setting (file, key, what was expected)
├── ServerError                the local OpenSearch node cannot be provisioned or started
├── StoreError                 the cluster refused or could not be reached
└── ParseError                 one log record (or a whole payload) cannot be read

The CLI prints these as one clear message, never as a stack trace.
"""

from __future__ import annotations


class DuskwatchError(Exception):
    """An error the user can act on; ``hint`` says what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class ConfigError(DuskwatchError):
    """A configuration file or setting is invalid."""


class ServerError(DuskwatchError):
    """The local OpenSearch node could not be provisioned, started or stopped."""


class StoreError(DuskwatchError):
    """The OpenSearch cluster could not be reached or refused a request."""


class ParseError(DuskwatchError):
    """A log record or payload could not be parsed; the reason goes to the dead letters."""
