"""UsersApiUser API: users and their API tokens. Everything the Users page does."""

from __future__ import annotations

from fastapi import APIRouter, Request

from overture.db import utcnow
from overture.users import service as users
from overture.users.schemas import (
    PasswordLink,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import SignedInApiUser, UsersApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["users"], responses=API_ERROR_RESPONSES)


@router.get("/me", summary="The user the token belongs to")
def me(user: SignedInApiUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.get("/users", summary="List users")
def list_users(session: DbSession, _: UsersApiUser) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in users.list_users(session)]


@router.post("/users", status_code=201, summary="Add a user")
def create_user(request: Request, session: DbSession, _: UsersApiUser, body: UserCreate) -> UserPublic:
    user = users.create_user(session, body.email, body.role, name=body.name)
    if body.send_password_link:
        users.start_password_reset(session, user, request.app.state.context.settings.base_url, utcnow(), invited=True)
    return UserPublic.model_validate(user)


@router.get("/users/{user_id}", summary="One user")
def get_user(session: DbSession, _: UsersApiUser, user_id: RowId) -> UserPublic:
    return UserPublic.model_validate(users.get_user(session, user_id))


@router.patch("/users/{user_id}", summary="Change a user's name, role or active state")
def update_user(session: DbSession, admin: UsersApiUser, user_id: RowId, body: UserUpdate) -> UserPublic:
    user = users.get_user(session, user_id)
    if body.name is not None:
        users.update_profile(session, user, name=body.name)
    if body.role is not None:
        users.change_role(session, user, body.role)
    if body.is_active is not None:
        users.set_active(session, user, body.is_active, actor=admin)
    return UserPublic.model_validate(user)


@router.post("/users/{user_id}/password-link", status_code=201, summary="Mail a one-time link to set a password")
def password_link(request: Request, session: DbSession, _: UsersApiUser, user_id: RowId) -> PasswordLink:
    user = users.get_user(session, user_id)
    link = users.start_password_reset(session, user, request.app.state.context.settings.base_url, utcnow())
    return PasswordLink(url=link.url, expires_at=link.expires_at, message_id=link.message_id)


@router.get("/users/{user_id}/tokens", summary="A user's API tokens")
def list_tokens(session: DbSession, _: UsersApiUser, user_id: RowId) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t) for t in users.get_user(session, user_id).tokens]


@router.post("/users/{user_id}/tokens", status_code=201, summary="Create an API token (shown once)")
def create_token(session: DbSession, _: UsersApiUser, user_id: RowId, body: TokenCreate) -> TokenCreated:
    token, secret = users.create_token(session, users.get_user(session, user_id), body.name, utcnow())
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", summary="Revoke an API token")
def revoke_token(session: DbSession, _: UsersApiUser, token_id: RowId) -> TokenPublic:
    return TokenPublic.model_validate(users.revoke_token(session, token_id, utcnow()))
