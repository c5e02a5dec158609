"""Portal access of contacts: invitations, password resets, signed expiring links, passwords.

A link carries a token signed with SECRET_KEY (itsdangerous URLSafeTimedSerializer, one salt
per purpose, so an invitation token is never accepted as a reset token and vice versa). The
signed payload holds the contact id and a fingerprint of the contact's current password
hash: setting a password changes the hash, so every link issued before stops working (a
link works once). Invitations are valid for 7 days, resets for 2 hours.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.models import Contact, Customer, EmailDelivery
from portal.passwords import hash_password
from portal.services.links import external_url
from portal.services.mail import queue_message
from portal.services.settings import ensure_settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200


@dataclass(frozen=True)
class Purpose:
    """What a link is for: its salt, how long it lives, its e-mail and its page."""

    name: str
    max_age: timedelta
    template: str
    endpoint: str


INVITATION = Purpose("invitation", timedelta(days=7), "email/customer_invitation", "customer.accept_invitation")
RESET = Purpose("reset", timedelta(hours=2), "email/customer_reset", "customer.reset_password")
# ChargeOver's user action `login`: a link that logs the contact in (no e-mail; short-lived).
LOGIN = Purpose("login", timedelta(minutes=10), "", "customer.login_link")
PURPOSES = {p.name: p for p in (INVITATION, RESET, LOGIN)}


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"meterbill.contact-{purpose.name}")


def _fingerprint(contact: Contact) -> str:
    """A keyed digest of the current password hash (none yet = its own value); it reveals
    nothing about the hash and changes whenever a password is set."""
    key = current_app.config["SECRET_KEY"].encode()
    message = (contact.password_hash or "no-password").encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def make_token(contact: Contact, purpose: str) -> str:
    """A signed, timestamped token that lets `contact` set a password once.

    :param contact: the contact (with an id).
    :param purpose: "invitation" or "reset".
    """
    return _serializer(PURPOSES[purpose]).dumps({"c": contact.id, "h": _fingerprint(contact)})


def link_for(contact: Contact, purpose: str) -> str:
    """The absolute URL (under PUBLIC_URL) of the set-password page for a fresh token.

    :param contact: the contact.
    :param purpose: "invitation" or "reset".
    """
    return external_url(PURPOSES[purpose].endpoint, token=make_token(contact, purpose))


def contact_from_token(token: str, purpose: str) -> Contact | None:
    """The contact a valid token names, or None: tampered, expired, of another purpose,
    already used (the password changed since), or of a contact that no longer exists.

    :param token: the token from the link.
    :param purpose: "invitation" or "reset".
    """
    spec = PURPOSES[purpose]
    try:
        payload = _serializer(spec).loads(token, max_age=int(spec.max_age.total_seconds()))
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        return None
    contact = db.session.get(Contact, payload["c"])
    if contact is None or not contact.email:
        return None
    if not hmac.compare_digest(str(payload.get("h", "")), _fingerprint(contact)):
        return None
    return contact


def _queue(contact: Contact, purpose: str, subject: str) -> EmailDelivery:
    """Render the purpose's e-mail with a fresh link and queue it (the mail job sends it)."""
    spec = PURPOSES[purpose]
    merchant = ensure_settings()
    customer = db.session.get(Customer, contact.customer_id)
    context = {"contact": contact, "customer": customer, "merchant": merchant,
               "link": link_for(contact, purpose), "valid_for": _duration_text(spec.max_age)}
    return queue_message(contact.email, subject, render_template(f"{spec.template}.txt", **context),
                         render_template(f"{spec.template}.html", **context))


def _duration_text(age: timedelta) -> str:
    """"7 days" or "2 hours"."""
    if age.days:
        return f"{age.days} day{'s' if age.days != 1 else ''}"
    hours = age.seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


def invite_contact(contact: Contact) -> EmailDelivery:
    """Queue the invitation e-mail of a contact to the customer portal; flushes.

    A contact that already has a password may be invited again: the link lets them set a
    new one.
    :param contact: the contact; it must have an e-mail address.
    """
    if not contact.email or "@" not in contact.email:
        raise ValidationError("email", f"contact {contact.id} has no e-mail address")
    company = ensure_settings().company_name
    return _queue(contact, INVITATION.name, f"Your invitation to the {company} customer portal")


def request_password_reset(email: str) -> EmailDelivery | None:
    """Queue a password-reset e-mail when `email` is a contact who can log in; flushes.

    Returns None (and queues nothing) for an unknown address or a contact who was never
    invited: the caller must answer the same either way, so nobody learns who has an account.
    :param email: the address typed in the forgot-password form.
    """
    contact = contact_by_email(email)
    if contact is None or not contact.is_active:
        return None
    company = ensure_settings().company_name
    return _queue(contact, RESET.name, f"Reset your password for the {company} customer portal")


def send_password_link(contact: Contact) -> EmailDelivery:
    """Queue a reset e-mail to a contact who can log in, else the invitation (the API's
    user action reset_password without a password); flushes."""
    if not contact.is_active:
        return invite_contact(contact)
    if not contact.email:
        raise ValidationError("email", f"contact {contact.id} has no e-mail address")
    company = ensure_settings().company_name
    return _queue(contact, RESET.name, f"Reset your password for the {company} customer portal")


def set_contact_password(contact: Contact, password: str) -> Contact:
    """Store a salted hash of the contact's new password; flushes. Every earlier link dies.

    :param contact: the contact.
    :param password: MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH characters.
    """
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    contact.password_hash = hash_password(password)
    db.session.flush()
    return contact


def authenticate(email: str, password: str) -> Contact | None:
    """The contact whose e-mail and password match and who can log in, else None
    (the one login service of both portals, portal.services.accounts).

    :param email: the login address (case-insensitive).
    :param password: the password typed.
    """
    from portal.services.accounts import authenticate as authenticate_login

    return authenticate_login("contact", email, password)


def contact_by_email(email: str) -> Contact | None:
    """The contact with this e-mail address (case-insensitive), or None.

    :param email: the address.
    """
    address = (email or "").strip().lower()
    return db.session.scalar(select(Contact).where(Contact.email == address)) if address else None
