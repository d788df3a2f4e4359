"""The site's identify secret: what `Overture.identify` signatures are made with, checked and rotated."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from overture.people.email_domains import normalize_email
from overture.sites.models import Site

SECRET_BYTES = 32  # 64 hex characters


def signature_for(secret: str, email: str) -> str:
    """What the host's server computes: hex HMAC-SHA256 of the email (stripped, lower-cased) with the secret."""
    return hmac.new(secret.encode(), normalize_email(email).encode(), hashlib.sha256).hexdigest()


def signature_valid(secret: str, email: str, signature: str) -> bool:
    """Compared in constant time, so the answer's timing tells nothing about how much of a guess was right."""
    return hmac.compare_digest(signature_for(secret, email).encode(), signature.strip().lower().encode())


def rotate_secret(session: Session, site: Site) -> str:
    """Gives the site a new identify secret: signatures made with the old one are refused from now on."""
    site.identify_secret = secrets.token_hex(SECRET_BYTES)
    session.flush()
    return site.identify_secret
