"""Log configuration: readable lines for people, JSON lines in production (OVERTURE_LOG_FORMAT=json)."""

from __future__ import annotations

import logging

import structlog

from overture.client_addresses import network_of
from overture.settings import Settings

# uvicorn's access log line starts with the client as "host:port".
ACCESS_LOGGER = "uvicorn.access"


class _ClientNetworkOnly(logging.Filter):
    """Writes the client of an access log line as its network (203.0.113.0), without its port: the address is
    personal data, and a log kept for months must not hold it whole (OVERTURE_FULL_IP_ADDRESSES keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            host, colon, port = record.args[0].rpartition(":")
            client = host if colon and port.isdigit() else record.args[0]
            record.args = (network_of(client.strip("[]")), *record.args[1:])
        return True


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
    access = logging.getLogger(ACCESS_LOGGER)
    for old in [f for f in access.filters if isinstance(f, _ClientNetworkOnly)]:
        access.removeFilter(old)
    if not settings.full_ip_addresses:
        access.addFilter(_ClientNetworkOnly())
    # Chatty libraries speak only of problems unless we debug.
    for name in ("alembic", "huey"):
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else max(level, logging.WARNING))
