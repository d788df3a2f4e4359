"""The one error hierarchy: domain errors carry an HTTP status and name the field or card they are about."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted path) and what, in a sentence a person understands."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class OvertureError(Exception):
    """Base of every error Overture reports to a person. Web handlers turn it into the one error shape."""

    message: str
    problems: list[Problem] = field(default_factory=list)
    status: int = 400

    def __str__(self) -> str:
        return self.message


class InvalidInput(OvertureError):
    """The input is wrong; `problems` lists every mistake with its path."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems or [], 422)


class NotFound(OvertureError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], 404)


class Conflict(OvertureError):
    """The change clashes with the current state (a duplicate, the last admin, a lost race)."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems or [], 409)


class Forbidden(OvertureError):
    def __init__(self, message: str = "Your role does not give access to this.") -> None:
        super().__init__(message, [], 403)


class Unauthenticated(OvertureError):
    def __init__(self, message: str = "Sign in or send a valid API token.") -> None:
        super().__init__(message, [], 401)


class TooManyAttempts(OvertureError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, [], 429)
        self.retry_after = retry_after
