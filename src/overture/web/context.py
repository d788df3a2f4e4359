"""What every request needs: settings, the database, templates and the job queue, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates

from overture.calendars.world import CalendarWorld
from overture.db import Database
from overture.group_commit import GroupCommitter
from overture.jobs import Jobs
from overture.settings import Settings
from overture.visits.selector_cache import SelectorCache


@dataclass
class AppContext:
    settings: Settings
    db: Database
    secret_key: str
    templates: Jinja2Templates
    jobs: Jobs
    # The writer thread that batches the visit call's writes into shared commits.
    group_commit: GroupCommitter
    selector_cache: SelectorCache
    # What opening an agent's calendar needs (HTTP client, provider apps, the key of calendar secrets).
    calendar_world: CalendarWorld
