"""Walks every registered admin page and admin API route: each one refuses a stranger and a wrong role."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from overture.db import Database
from overture.users.roles import AREA_ROLES, Area, Role
from overture.web import guards
from overture.web.deps import AnyUserGuard, AreaGuard

from support import Personas, csrf_from, sign_in, token_for

# Pages a stranger must reach: signing in and out, and setting a password through a one-time link.
PUBLIC = {
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("POST", "/admin/logout"),
    ("GET", "/admin/reset/{token}"),
    ("POST", "/admin/reset/{token}"),
}


def guard_of(dependant: Dependant) -> AreaGuard | AnyUserGuard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, AreaGuard | AnyUserGuard):
            return dependency.call
        found = guard_of(dependency)
        if found is not None:
            return found
    return None


def every_route(routes: list[Any]) -> list[APIRoute]:
    """The API routes of the app, including those of included routers (FastAPI wraps them; the app includes
    its routers without a prefix, so each route's path is complete)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(every_route(route.original_router.routes))
    return found


def admin_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    routes = []
    for route in every_route(app.routes):
        if route.path.startswith("/admin") or route.path.startswith("/api/v1/admin"):
            for method in sorted(route.methods - {"HEAD"}):
                routes.append((method, route.path, route))
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


def call(client: TestClient, method: str, path: str, *, token: str | None = None, csrf_page: str | None = None) -> Any:
    """Calls the route with made-up ids; with `csrf_page`, a form carries the CSRF token of that page."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = {"csrf_token": csrf_from(client, csrf_page)} if csrf_page and method != "GET" else None
    return client.request(method, concrete(path), headers=headers, data=data)


def test_there_are_routes_to_walk(app: FastAPI) -> None:
    assert len(admin_routes(app)) > 30


def test_every_admin_route_is_guarded_or_deliberately_public(app: FastAPI) -> None:
    for method, path, route in admin_routes(app):
        if (method, path) in PUBLIC:
            continue
        assert guard_of(route.dependant) is not None, f"{method} {path} has no role guard"


def test_a_stranger_is_refused_everywhere(client: TestClient, app: FastAPI, personas: Personas) -> None:
    for method, path, _ in admin_routes(app):
        if (method, path) in PUBLIC:
            continue
        response = call(client, method, path, csrf_page="/admin/login")
        if path.startswith("/api/"):
            assert response.status_code == 401, f"{method} {path}"
            assert set(response.json()) == {"ok", "error", "errors", "status"}
        else:
            assert response.status_code == 303, f"{method} {path}"
            assert response.headers["location"].startswith("/admin/login?next=")


def test_a_bad_or_revoked_token_is_refused(client: TestClient, app: FastAPI, db: Database, personas: Personas) -> None:
    deactivated = token_for(db, personas.carol)
    for method, path, _ in admin_routes(app):
        if path.startswith("/api/"):
            for token in ("ovt_made-up", deactivated):
                response = call(client, method, path, token=token)
                assert response.status_code == 401, f"{method} {path}"
                assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [role.value for role in Role if role != Role.admin])
def test_a_wrong_role_is_refused_everywhere(
    client: TestClient, app: FastAPI, db: Database, personas: Personas, role: str
) -> None:
    persona = personas.by_role(role)
    token = token_for(db, persona)
    sign_in(client, persona)
    checked = 0
    for method, path, route in admin_routes(app):
        guard = guard_of(route.dependant)
        if not isinstance(guard, AreaGuard) or Role(role) in AREA_ROLES[guard.area]:
            continue
        api = path.startswith("/api/")
        response = call(client, method, path, token=token if api else None, csrf_page=None if api else "/admin")
        assert response.status_code == 403, f"{role} reached {method} {path}"
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_a_right_role_opens_every_page_it_may(client: TestClient, app: FastAPI, personas: Personas, role: str) -> None:
    persona = personas.alice if role == "admin" else personas.by_role(role)
    sign_in(client, persona)
    for method, path, route in admin_routes(app):
        guard = guard_of(route.dependant)
        if method != "GET" or "{" in path or path.startswith("/api/") or guard is None:
            continue
        if isinstance(guard, AreaGuard) and Role(role) not in AREA_ROLES[guard.area]:
            continue
        assert client.get(path).status_code == 200, f"{role} cannot open {path}"


# Being changed on another branch; converted to web/guards.py when it merges (then these lines go).
GUARDS_WAITING: set[str] = set()


def test_no_module_under_web_declares_a_guard_of_its_own() -> None:
    """Guards are declared once, in web/guards.py: a module that builds its own (`Admin = Annotated[User,
    Depends(AreaGuard(...))]`) can give one name two areas, as `Admin` once meant Outbox in one file and Users in
    another."""
    web = Path(guards.__file__).parent
    found = []
    for path in sorted(web.rglob("*.py")):
        name = path.relative_to(web).as_posix()
        if name in {"guards.py", "deps.py"} | GUARDS_WAITING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in {"AreaGuard", "AnyUserGuard"}:
                    found.append(f"{name}:{node.lineno}")
    assert found == [], "name the area's guard from overture.web.guards"


@pytest.mark.parametrize("area", list(Area))
def test_each_area_has_a_page_guard_and_an_api_guard_named_after_it(area: Area) -> None:
    for kind, api in (("Page", False), ("Api", True)):
        alias = getattr(guards, f"{area.value.title()}{kind}User")
        [guard] = [extra.dependency for extra in alias.__metadata__]
        assert isinstance(guard, AreaGuard) and (guard.area, guard.api) == (area, api)
    assert guards.PAGE_USERS[area] is getattr(guards, f"{area.value.title()}PageUser")
