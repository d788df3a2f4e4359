"""Slots grouped by day in the visitor's own time zone, for the slot picker: the visitor reads days and times on
their own clock, with the zone named."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from overture.scheduling.availability import Slot
from overture.scheduling.clock import load_zone


@dataclass(frozen=True, slots=True)
class PickerTime:
    """One slot as the visitor sees it: `local` is its start on the visitor's clock (aware, in their zone)."""

    local: datetime
    slot: Slot


@dataclass(frozen=True, slots=True)
class PickerDay:
    day: date
    times: tuple[PickerTime, ...]


@dataclass(frozen=True, slots=True)
class SlotPicker:
    """`zone` is the visitor's IANA zone name, shown next to the times."""

    zone: str
    days: tuple[PickerDay, ...]


def slot_picker(slots: Iterable[Slot], visitor_zone: str) -> SlotPicker:
    """Groups `slots` (sorted, as `free_slots` returns them) by their start's date in `visitor_zone`.
    Raises InvalidInput for an unknown zone."""
    zone = load_zone(visitor_zone, "visitor_zone")
    days: dict[date, list[PickerTime]] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append(PickerTime(local, slot))
    return SlotPicker(visitor_zone, tuple(PickerDay(day, tuple(times)) for day, times in days.items()))
