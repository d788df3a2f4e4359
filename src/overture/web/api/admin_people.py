"""Admin API: (being written)."""

from __future__ import annotations

from fastapi import APIRouter

from overture.web.errors import API_ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/admin", responses=API_ERROR_RESPONSES)
