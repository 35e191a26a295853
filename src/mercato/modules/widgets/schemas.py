"""Shapes of the widgets API: `PUT {T}/widgets/{placement}` (API.md, Personalization).

Theme values end up in CSS, so each is held to a strict form (hex colours, a font stack
of plain names) rather than escaped after the fact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Layout = Literal["grid", "carousel", "list"]
Colour = Annotated[str, Field(pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")]
FontStack = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9 ,'\"-]+$")]


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary_color: Colour = "#1f6feb"
    text_color: Colour = "#1f2328"
    background_color: Colour = "#ffffff"
    muted_color: Colour = "#656d76"
    font_family: FontStack = "system-ui, -apple-system, 'Segoe UI', sans-serif"
    border_radius: int = Field(default=8, ge=0, le=32, strict=True)


class WidgetWrite(BaseModel):
    title: str | None = Field(default=None, max_length=120)
    layout: Layout = "grid"
    columns: int = Field(default=4, ge=1, le=6, strict=True)
    max_items: int = Field(default=8, ge=1, le=24, strict=True)
    show_price: bool = Field(default=True, strict=True)
    cta_text: str = Field(default="View", min_length=1, max_length=40)
    product_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^(https?://|/)[^\s<>\"']*\{product_id\}[^\s<>\"']*$",
        description="The merchant's product page, `{product_id}` replaced (the CTA's link)",
    )
    theme: Theme = Field(default_factory=Theme)

    @model_validator(mode="after")
    def _columns_fit_the_layout(self) -> Self:
        if self.layout == "list" and self.columns != 1:
            raise ValueError("a list layout has exactly 1 column")
        if self.columns > self.max_items:
            raise ValueError("columns cannot exceed max_items")
        return self


class WidgetRead(WidgetWrite):
    placement: str
    configured: bool = Field(description="False when these are the defaults (never PUT)")
    updated_at: datetime | None = None
