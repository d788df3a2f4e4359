"""A dialogue's experiment report (docs/experiments.md): each variant's sample, figures and conversion rate with its
95 % interval, and the verdict.

The unit is the visitor: a person is assigned one variant (conversations/assignment.py), so each person counts
once in their variant's sample and converts at most once, which keeps the trials of the test independent.
Triggered and engaged are counted as in the reports (once per visitor session) for comparison.

The verdict waits until every variant has its minimum sample: looking at a running test again and again and stopping
at the first "significant" look inflates false positives far beyond the level (Armitage, McPherson & Rowe 1969),
so the sample is fixed up front and no winner is named before it. Then the best variant wins when a two-proportion
z-test against every other variant rejects equality at 5 %, Bonferroni-adjusted for the pairs of variants compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.analytics.experiment_schemas import ExperimentReport, VariantFigures, Verdict
from overture.analytics.proportions import bonferroni, two_proportion_z_test, wilson_interval
from overture.conversations.models import Conversation
from overture.dialogues import service as dialogues
from overture.dialogues.document import DialogueDocument, Experiment, Variant
from overture.dialogues.experiments import MEETING_BOOKED, PEOPLE_ACQUIRED
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import NotFound

ALPHA = 0.05
EMAIL_FIELD = "person.email"


@dataclass(frozen=True)
class Arm:
    """One variant's sample: its visitors, and those of them who converted."""

    key: str
    visitors: int
    conversions: int

    @property
    def rate(self) -> float:
        return self.conversions / self.visitors if self.visitors else 0.0


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def verdict(arms: Sequence[Arm], minimum_sample: int, alpha: float = ALPHA) -> Verdict:
    """The verdict on `arms` (two or more): not enough data until each has `minimum_sample` visitors; then the arm
    with the best rate wins when it beats every other arm by a two-sided two-proportion z-test whose p-value,
    multiplied by the number of pairs of arms (Bonferroni), stays under `alpha`; else no clear difference."""
    pairs = len(arms) * (len(arms) - 1) // 2
    smallest = min(arms, key=lambda arm: arm.visitors)
    if smallest.visitors < minimum_sample:
        return Verdict(
            kind="not_enough_data",
            text=f"Not enough data yet ({smallest.visitors} of {minimum_sample} visitors in variant {smallest.key}).",
            winner=None, compared_with=None, lift_points=None, p_value=None, comparisons=pairs, alpha=alpha,
        )  # fmt: skip
    best = max(arms, key=lambda arm: arm.rate)  # the first of equals: a tie never wins
    others = [arm for arm in arms if arm is not best]
    adjusted = {
        arm.key: bonferroni(two_proportion_z_test(best.conversions, best.visitors, arm.conversions, arm.visitors)
                            .p_value, pairs)
        for arm in others
    }  # fmt: skip
    runner_up = max(others, key=lambda arm: arm.rate)
    weakest = max(adjusted.values())
    if all(arm.rate < best.rate for arm in others) and weakest < alpha:
        lift = (best.rate - runner_up.rate) * 100
        return Verdict(
            kind="winner",
            text=f"Variant {best.key} wins (+{lift:.1f} points over {runner_up.key}, {_p(weakest)}).",
            winner=best.key, compared_with=runner_up.key, lift_points=lift, p_value=weakest, comparisons=pairs,
            alpha=alpha,
        )  # fmt: skip
    return Verdict(
        kind="no_clear_difference",
        text=f"No clear difference: the best, variant {best.key}, is not clearly ahead of {runner_up.key} "
        f"({_p(adjusted[runner_up.key])}, needs under {alpha:g}).",
        winner=None, compared_with=runner_up.key, lift_points=(best.rate - runner_up.rate) * 100,
        p_value=adjusted[runner_up.key], comparisons=pairs, alpha=alpha,
    )  # fmt: skip


def describe(variant: Variant) -> str:
    """What a variant changes, in words."""
    parts = []
    if variant.start is not None:
        parts.append(f"starts at {variant.start}")
    if variant.say is not None:
        first = variant.messages[0] if variant.messages else ""
        text = first if isinstance(first, str) else next(iter(first.values()), "")
        parts.append(f'says "{text}"' + (" …" if len(variant.messages or []) > 1 else ""))
    return ", ".join(parts) or "the flow as written"


def _experiment(dialogue: Dialogue) -> tuple[Experiment, list[DialogueVersion], bool]:
    """The experiment reported: the live version's, else the newest one any version ran; the versions that ran it
    (by its key); whether the live version runs it. Raises NotFound when no version ever ran one."""
    by_number = sorted(dialogue.versions, key=lambda version: version.number, reverse=True)
    live = next((v for v in by_number if v.number == dialogue.published_version), None)
    ordered = [live, *by_number] if live is not None else by_number
    for version in ordered:
        if version is None or not version.document.get("experiment"):
            continue
        experiment = DialogueDocument.model_validate(version.document).experiment
        assert experiment is not None
        ran = [v for v in by_number if (v.document.get("experiment") or {}).get("key") == experiment.key]
        return experiment, sorted(ran, key=lambda v: v.number), version is live
    raise NotFound(f"'{dialogue.key}' has never run an experiment: add an experiment section (docs/experiments.md).")


def _conversion(experiment: Experiment) -> tuple[ActivityType, ColumnElement[bool]]:
    """The activity that is a conversion for the experiment's goal, and the condition on its attributes."""
    if experiment.goal == PEOPLE_ACQUIRED:
        return ActivityType.field_captured, Activity.attributes["field"].as_string() == EMAIL_FIELD
    if experiment.goal == MEETING_BOOKED:
        return ActivityType.meeting_booked, true()
    return ActivityType.goal_reached, Activity.attributes["goal"].as_string() == experiment.goal


def experiment_report(session: Session, key: str) -> ExperimentReport:
    """The report of the experiment of dialogue `key` (see `_experiment` for which), over every conversation of the
    versions that ran it. Raises NotFound for an unknown dialogue or one that never ran an experiment."""
    dialogue = dialogues.get(session, key)
    experiment, versions, running = _experiment(dialogue)
    version_ids = [version.id for version in versions]
    visitors: dict[str | None, set[Hashable]] = defaultdict(set)
    for conversation_id, person_id, variant in session.execute(
        select(Conversation.id, Conversation.person_id, Conversation.variant).where(
            Conversation.dialogue_id == dialogue.id,
            Conversation.version_id.in_(version_ids),
            Conversation.variant.is_not(None),
        )
    ):
        visitors[variant].add(_person(person_id, conversation_id))

    converting, condition = _conversion(experiment)
    counted = (ActivityType.dialogue_triggered, ActivityType.dialogue_engaged, converting)
    sessions: dict[tuple[str | None, str], set[Hashable]] = defaultdict(set)
    converted: dict[str | None, set[Hashable]] = defaultdict(set)
    rows = session.execute(
        select(
            Activity.id, Activity.type, Activity.person_id, Activity.session_number, Conversation.id,
            Conversation.person_id, Conversation.variant,
        )
        .join(Conversation, Conversation.id == Activity.conversation_id)
        .where(
            Conversation.dialogue_id == dialogue.id,
            Conversation.version_id.in_(version_ids),
            Conversation.variant.is_not(None),
            Activity.type.in_([kind.value for kind in counted]),
            (Activity.type != converting.value) | condition,
        )
    )  # fmt: skip
    for activity_id, kind, person_id, session_number, conversation_id, owner_id, variant in rows:
        if kind == converting.value:
            converted[variant].add(_person(owner_id, conversation_id))
        else:  # once per visitor session, as in the reports; an activity of a deleted person counts on its own
            once = (person_id, session_number) if person_id is not None else ("activity", activity_id)
            sessions[(variant, kind)].add(once)

    figures, arms = [], []
    for spec in experiment.variants:
        arm = Arm(spec.key, len(visitors[spec.key]), len(converted[spec.key]))
        interval = wilson_interval(arm.conversions, arm.visitors)
        arms.append(arm)
        figures.append(
            VariantFigures(
                key=spec.key,
                weight=spec.weight,
                change=describe(spec),
                visitors=arm.visitors,
                triggered=len(sessions[(spec.key, ActivityType.dialogue_triggered.value)]),
                engaged=len(sessions[(spec.key, ActivityType.dialogue_engaged.value)]),
                conversions=arm.conversions,
                rate=arm.rate if arm.visitors else None,
                low=interval.low if interval else None,
                high=interval.high if interval else None,
            )
        )
    return ExperimentReport(
        dialogue=dialogue.key,
        experiment=experiment.key,
        goal=experiment.goal,
        minimum_sample=experiment.minimum_sample,
        running=running,
        versions=[version.number for version in versions],
        variants=figures,
        verdict=verdict(arms, experiment.minimum_sample),
    )


def _person(person_id: int | None, conversation_id: int) -> Hashable:
    """Who a conversation's visitor is: their person, or, once the person was deleted, the conversation alone."""
    return ("person", person_id) if person_id is not None else ("conversation", conversation_id)
