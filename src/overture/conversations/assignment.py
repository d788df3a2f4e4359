"""Which variant of a dialogue's experiment a visitor gets (docs/experiments.md).

Sticky without a lookup: the variant is a hash of the dialogue, the experiment and the person, cut by the traffic
split. The same person always gets the same variant of one experiment, in every conversation, browser (once known)
and process, and two requests at once cannot disagree; a new experiment key shuffles visitors afresh. Pure.
"""

from __future__ import annotations

import hashlib

from overture.dialogues.document import Document
from overture.dialogues.experiments import experiment_of


def assign(document: Document, person_id: int) -> str | None:
    """The key of the variant person `person_id` sees of the document's experiment; None when it has none."""
    experiment = experiment_of(document)
    if experiment is None or not experiment.variants:
        return None
    weights = [max(variant.weight, 0) for variant in experiment.variants]
    total = sum(weights)
    if total == 0:  # validation refuses it; never divide by nothing
        return experiment.variants[0].key
    digest = hashlib.sha256(f"{document.key}\x1f{experiment.key}\x1f{person_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * total >> 64  # uniform over [0, total)
    for variant, weight in zip(experiment.variants, weights, strict=True):
        if point < weight:
            return variant.key
        point -= weight
    return experiment.variants[-1].key  # not reached: the weights add up to total
