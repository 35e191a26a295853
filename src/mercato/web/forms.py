"""Forms: read a submission, validate it with the API's own schemas, show problems in place.

A form validates with the same Pydantic model as the matching API call, and a service's
`DomainError` is read the way an API client reads problem details: `errors[].field`
goes next to that field, `detail` above the form. Sensitive actions that answer
`step-up-required` re-render the form with a password field; submitting it again
re-authenticates and retries in the same request, so nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError, ValidationFailed
from mercato.kernel.security import StepUpRequired
from mercato.web.csrf import CSRF_FIELD

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

STEP_UP_FIELD = "current_password"


@dataclass
class FormState:
    """What a form shows after a submission: the values typed, and what went wrong."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    step_up: bool = False
    status: int = 422  # of the problem shown, as the API would have answered

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.message or self.step_up)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def show(self, error: DomainError) -> None:
        """Put a problem where the person will see it: by its field, or above the form."""
        self.status = error.status
        if isinstance(error, StepUpRequired):
            self.step_up = True
            self.message = "Confirm your password to continue."
            return
        for item in error.errors or []:
            name = str(item.get("field", "")).split(".")[0]
            if name and name not in self.errors:
                self.errors[name] = str(item.get("message", "is not valid"))
        if not error.errors or not any(str(e.get("field", "")) for e in error.errors):
            self.message = error.detail


async def read_form(request: Request) -> tuple[dict[str, str], FormState]:
    """The submitted fields (all of them) and a state that echoes the non-secret ones."""
    form = await request.form()
    submitted = {key: value for key, value in form.items() if isinstance(value, str)}
    shown = {
        key: value
        for key, value in submitted.items()
        if key != CSRF_FIELD and "password" not in key
    }
    return submitted, FormState(values=shown)


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate like the API does; failures become a 422 problem with field errors.

    A form sends text only: data made of strings is validated in pydantic's strings mode,
    so "50" is read as the number a strict API field wants (and "abc" is still refused).
    """
    try:
        text = _as_strings(data)
        if text is not None:
            return model.model_validate_strings(text)
        return model.model_validate(data)
    except ValidationError as invalid:
        errors = [
            {
                "field": _field_name(error["loc"]),
                "message": error["msg"].removeprefix("Value error, "),
                "code": error["type"],
            }
            for error in invalid.errors()
        ]
        raise ValidationFailed("Some fields need attention", errors=errors) from invalid


def _as_strings(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """A form as pydantic's strings mode takes it (text, nested groups of text; a checkbox's
    bool as "true"/"false"), or None when it holds anything else (say, a list)."""
    converted: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, bool):
            converted[name] = "true" if value else "false"
        elif isinstance(value, str):
            converted[name] = value
        elif isinstance(value, Mapping) and (group := _as_strings(value)) is not None:
            converted[name] = group
        else:
            return None
    return converted


async def attempt(
    session: AsyncSession, form: FormState, action: Callable[[], Awaitable[T]]
) -> T | None:
    """Run `action` in a savepoint; on a domain error undo it, show why on `form`, return None.

    The savepoint keeps the request's transaction (and its tenant scope) usable, so the
    page can still be rendered after a refused change, and nothing half-done commits.
    """
    try:
        async with session.begin_nested():
            return await action()
    except DomainError as error:
        form.show(error)
        return None


def form_status(form: FormState) -> int:
    """The problem's status when the form shows one; 200 for a first view or a step-up prompt."""
    if form.errors:
        return form.status
    return form.status if form.message and not form.step_up else 200
