"""Security headers for the admin and the sign-in pages."""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overture.mail.invitation import INLINE_STYLES


def _style_hashes() -> str:
    """The invitation's own style attributes, allowed by hash (and only they): its preview on the Sites page is the
    mail's HTML in a frame, which inherits this policy."""
    digests = (base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() for style in INLINE_STYLES)
    return " ".join(f"'sha256-{digest}'" for digest in digests)


ADMIN_HEADERS = {
    "content-security-policy": (
        f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-hashes' {_style_hashes()}; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}


class AdminSecurityHeaders:
    """Adds ADMIN_HEADERS to every answer under /admin and /api/v1/admin (plus HSTS when served over https)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in ADMIN_HEADERS.items()]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/admin") or path.startswith("/api/v1/admin")):
            await self.app(scope, receive, send)
            return
        is_static = path.startswith("/admin/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (k, v) for k, v in self.headers if k not in existing and not (is_static and k == b"cache-control")
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
