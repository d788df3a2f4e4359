"""The shapes of the experiment report and of promoting a variant (docs/experiments.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.dialogues.document import KEY_PATTERN


class VariantFigures(BaseModel):
    key: str
    weight: int = Field(description="Its share of the traffic, in proportion to the other weights.")
    change: str = Field(description="What it changes, in words: 'the flow as written', 'its own start card: x'...")
    visitors: int = Field(description="People shown this variant: the sample, each counted once.")
    triggered: int = Field(description="Visitor sessions in which this variant was shown (as in the reports).")
    engaged: int = Field(description="Visitor sessions in which the visitor first answered (as in the reports).")
    conversions: int = Field(description="Visitors of this variant who reached the experiment's goal in it.")
    rate: float | None = Field(description="conversions / visitors; null before the first visitor.")
    low: float | None = Field(description="The 95 % confidence interval of the rate (Wilson), its lower end.")
    high: float | None = Field(description="Its upper end.")


class Verdict(BaseModel):
    kind: Literal["not_enough_data", "no_clear_difference", "winner"]
    text: str = Field(description='In words: "Variant b wins (+4.1 points over a, p = 0.003)".')
    winner: str | None = Field(description="The winning variant's key, once a winner is clear.")
    compared_with: str | None = Field(description="The variant the winner's lead is measured over (the runner-up).")
    lift_points: float | None = Field(description="The winner's rate minus the runner-up's, in percentage points.")
    p_value: float | None = Field(description="The weakest of the winner's comparisons, Bonferroni-adjusted.")
    comparisons: int = Field(description="The pairs of variants compared (the Bonferroni factor).")
    alpha: float = Field(description="The significance level a p-value must stay under.")


class ExperimentReport(BaseModel):
    dialogue: str
    experiment: str = Field(description="The experiment's key.")
    goal: str = Field(description="The goal that decides it: a goal name, people_acquired or meeting_booked.")
    minimum_sample: int = Field(description="Visitors each variant needs before a winner may be named.")
    running: bool = Field(description="Whether the live version runs it (false once promoted or removed).")
    versions: list[int] = Field(description="The published versions that ran it (their conversations count).")
    variants: list[VariantFigures]
    verdict: Verdict


class PromoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str = Field(max_length=80, pattern=KEY_PATTERN, description="The key of the variant to make the flow.")


class Promoted(BaseModel):
    dialogue: str
    variant: str
    version: int = Field(description="The new version, live, whose flow is the variant's, with no experiment.")
    published_at: datetime
