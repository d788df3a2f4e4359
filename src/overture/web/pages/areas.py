"""The admin areas whose content arrives with later issues: each is a real page of the shell, guarded by role."""

# No `from __future__ import annotations` here: the page functions are made in a loop, and FastAPI must see
# their real annotations (a string naming the loop variable would leave `user` as a query parameter).

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from overture.users.roles import Area
from overture.web.guards import PAGE_USERS
from overture.web.pages.rendering import page_router, render

router = page_router()

# What each area will hold, told to the person who opens it today.
UPCOMING: dict[Area, str] = {
    Area.integrations: "more integrations.",
}
# What each area already holds: (label, page).
READY: dict[Area, list[tuple[str, str]]] = {
    Area.integrations: [("Webhooks", "/admin/integrations/webhooks"), ("Marketo", "/admin/integrations/marketo")],
}


def _area_page(area: Area) -> Callable[..., Response]:
    def page(request: Request, user: PAGE_USERS[area]) -> Response:  # type: ignore[valid-type]
        return render(request, "admin/area.html", user, area=area, upcoming=UPCOMING[area], ready=READY.get(area, []))

    page.__name__ = f"{area.value}_page"
    return page


for _area in UPCOMING:
    router.add_api_route(f"/admin/{_area.value}", _area_page(_area), methods=["GET"], name=f"{_area.value}_page")
