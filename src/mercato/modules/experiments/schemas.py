"""Shapes of the experiments API (API.md, Personalization and its December additions).

An experiment is designed either the original way, `control_strategy`, `variant_strategy`
and `traffic_split` (two arms named `control` and `variant`), or with `arms`: 2 to 6 named
arms, each a strategy and a weight, the first being control. Either way it is stored as
arms; the original fields are kept filled for readers of the original contract (for arms,
the first two arms' strategies and control's share of the weights, rounded).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mercato.modules.recommendations import PLACEMENT_PATTERN, StrategyName

Metric = Literal["ctr", "conversion_rate", "revenue_per_user"]
Status = Literal["draft", "running", "paused", "completed"]
MIN_ARMS, MAX_ARMS = 2, 6
# An arm's name is the `variant` of the recommendations it serves and of the events sent
# back, so it stays short and plain.
ARM_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
LEGACY_FIELDS = ("control_strategy", "variant_strategy", "traffic_split")
PRIMARY_NOT_GUARDRAIL = "the primary metric cannot also be a guardrail"


class Arm(BaseModel):
    name: str = Field(pattern=ARM_NAME_PATTERN, description="The `variant` its shoppers carry")
    strategy: StrategyName
    weight: float = Field(
        gt=0,
        le=1_000_000,
        strict=True,
        allow_inf_nan=False,
        description="Relative share of shoppers",
    )


Arms = list[Arm]


def legacy_arms(
    control_strategy: str, variant_strategy: str, traffic_split: int
) -> list[dict[str, Any]]:
    """The arms of an experiment designed the original way."""
    return [
        {"name": "control", "strategy": control_strategy, "weight": traffic_split},
        {"name": "variant", "strategy": variant_strategy, "weight": 100 - traffic_split},
    ]


Guardrails = list[Metric]


def _unique_arms(arms: Arms | None) -> Arms | None:
    if arms is not None:
        names = [arm.name for arm in arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
    return arms


def _unique_guardrails(guardrails: Guardrails | None) -> Guardrails | None:
    if guardrails is not None and len(set(guardrails)) != len(guardrails):
        raise ValueError("a guardrail metric is listed twice")
    return guardrails


def _not_both(design: BaseModel, arms: Arms | None) -> None:
    if arms is not None:
        given = [name for name in LEGACY_FIELDS if getattr(design, name) is not None]
        if given:
            raise ValueError(f"give either arms or {', '.join(given)}, not both")


class ExperimentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    placement: str = Field(pattern=PLACEMENT_PATTERN)
    control_strategy: StrategyName | None = Field(default=None, description="Without arms")
    variant_strategy: StrategyName | None = Field(default=None, description="Without arms")
    traffic_split: int | None = Field(
        default=None, ge=0, le=100, strict=True, description="Percent of shoppers in control"
    )
    arms: Arms | None = Field(
        default=None,
        min_length=MIN_ARMS,
        max_length=MAX_ARMS,
        description="Instead of the three fields above; the first arm is control",
    )
    metric: Metric = Field(description="The primary metric")
    guardrails: Guardrails = Field(
        default_factory=list,
        max_length=2,
        description="Metrics an arm must not significantly lower (one-sided test)",
    )
    sequential: bool = Field(
        default=True,
        strict=True,
        description="Sequential confidence intervals, valid however often results are read",
    )

    _arms_unique = field_validator("arms")(_unique_arms)
    _guardrails_unique = field_validator("guardrails")(_unique_guardrails)

    _design: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _one_design(self) -> Self:
        _not_both(self, self.arms)
        control, variant, split = self.control_strategy, self.variant_strategy, self.traffic_split
        if self.arms is not None:
            self._design = [arm.model_dump() for arm in self.arms]
        elif control is not None and variant is not None and split is not None:
            self._design = legacy_arms(control, variant, split)
        else:
            missing = [name for name in LEGACY_FIELDS if getattr(self, name) is None]
            raise ValueError(f"give arms, or {', '.join(missing)}")
        return self

    @field_validator("guardrails")
    @classmethod
    def _not_the_primary(cls, guardrails: Guardrails, info: ValidationInfo) -> Guardrails:
        if info.data.get("metric") in guardrails:
            raise ValueError(PRIMARY_NOT_GUARDRAIL)
        return guardrails

    def design(self) -> list[dict[str, Any]]:
        """The arms as stored: those given, or the two the original fields describe."""
        return [dict(arm) for arm in self._design]


class ExperimentUpdate(BaseModel):
    """Changes to a draft; a started experiment keeps its design so its results stay valid.
    The original three fields change a two-arm experiment only."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    placement: str | None = Field(default=None, pattern=PLACEMENT_PATTERN)
    control_strategy: StrategyName | None = None
    variant_strategy: StrategyName | None = None
    traffic_split: int | None = Field(default=None, ge=0, le=100, strict=True)
    arms: Arms | None = Field(default=None, min_length=MIN_ARMS, max_length=MAX_ARMS)
    metric: Metric | None = None
    guardrails: Guardrails | None = Field(default=None, max_length=2)
    sequential: bool | None = Field(default=None, strict=True)

    _arms_unique = field_validator("arms")(_unique_arms)
    _guardrails_unique = field_validator("guardrails")(_unique_guardrails)

    @model_validator(mode="after")
    def _one_design(self) -> Self:
        _not_both(self, self.arms)
        return self


class ArmRead(BaseModel):
    name: str
    strategy: str
    weight: float


class ExperimentRead(BaseModel):
    id: uuid.UUID
    name: str
    placement: str
    control_strategy: str
    variant_strategy: str
    traffic_split: int
    arms: list[ArmRead]
    metric: Metric
    guardrails: list[Metric]
    sequential: bool
    status: Status
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class ExperimentList(BaseModel):
    data: list[ExperimentRead]
    next_cursor: str | None = None


class VariantResult(BaseModel):
    variant: str = Field(description="The arm's name; `control` and `variant` for two arms")
    strategy: str
    users: int
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal
    metric_value: float


class GuardrailResult(BaseModel):
    """An arm against control on a guardrail metric: `failed` when it dropped, i.e. the
    one-sided p-value of a drop is below 0.05."""

    metric: Metric
    value: float
    lift: float | None
    p_value: float | None
    failed: bool
    note: str | None = None


class ArmResult(BaseModel):
    """One arm; against control for every arm but control itself (whose numbers are null).
    `p_value_adjusted` is Holm-Bonferroni across the arms; `significant` uses it."""

    name: str
    strategy: str
    weight: float
    control: bool
    users: int
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal
    metric_value: float
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_value_adjusted: float | None
    chance_to_win: float | None
    significant: bool
    guardrails: list[GuardrailResult]
    note: str | None = None


class ExperimentResults(BaseModel):
    """Every arm vs control on the experiment's metric; relative numbers (0.12 = +12 %).
    The top-level lift, interval, p-value and chance to win are the second arm's (the
    variant of a two-arm experiment); `arms` has them all."""

    variants: list[VariantResult]
    arms: list[ArmResult]
    metric: Metric
    guardrails: list[Metric]
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    chance_to_win: float | None
    srm_p_value: float
    srm: bool = Field(description="srm_p_value below 0.001: the arms did not split as weighted")
    correction: Literal["holm-bonferroni"] = "holm-bonferroni"
    sequential: bool
    note: str | None = None
