"""Log configuration: readable lines for people, JSON lines in production (OVERTURE_LOG_FORMAT=json)."""

from __future__ import annotations

import logging

import structlog

from overture.settings import Settings


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Chatty libraries speak only of problems unless we debug.
    for name in ("alembic", "huey"):
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else max(level, logging.WARNING))
