"""What every request needs: settings, the database, templates and the job queue, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.templating import Jinja2Templates

from overture.db import Database
from overture.jobs import Jobs
from overture.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    secret_key: str
    templates: Jinja2Templates
    jobs: Jobs
