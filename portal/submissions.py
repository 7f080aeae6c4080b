"""One-time submission keys: a double click, a retried request or a second tab posting the
same form acts once.

Every state-changing form carries a fresh random key (template global
``submission_key_field()``). The view claims the key in the transaction of the change
(:func:`claim`, an INSERT on a unique column) and stores the result (:func:`finish`).
A second post of the same key either finds the stored row at once or — when both posts
race — waits on the unique index and loses with the ``duplicate_submission`` conflict;
either way it answers with the first post's result (:func:`previous`) and changes nothing.
If the first post was refused, its transaction rolled the key back: the second one is
decided afresh.
"""
from __future__ import annotations

import re
import secrets

from markupsafe import Markup
from sqlmodel import Session, select

from portal import guard
from portal.models import FormSubmission
from portal.rules import Msg

FIELD = "submission_key"
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DUPLICATE = "duplicate_submission"

guard.register_constraint("form_submission_key_key", "form_submission", ("key",), DUPLICATE,
                          Msg("このフォームはすでに送信されています。", "This form was already submitted."))


def new_key() -> str:
    return secrets.token_urlsafe(18)


def key_field() -> Markup:
    """The hidden input a state-changing form carries."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{new_key()}">')


def key_from(form) -> str | None:
    """The posted key, or ``None`` when absent or malformed (then nothing is deduplicated)."""
    key = (form.get(FIELD) or "").strip()
    return key if _VALID.match(key) else None


def previous(db: Session, key: str | None, organization_id: int) -> FormSubmission | None:
    if key is None:
        return None
    return db.exec(select(FormSubmission).where(FormSubmission.key == key,
                                                FormSubmission.organization_id == organization_id)).first()


def claim(db: Session, key: str | None, organization_id: int, user_id: int | None, action: str) -> FormSubmission | None:
    """Insert the key first in the transaction: a racing duplicate blocks on it, then loses."""
    if key is None:
        return None
    row = FormSubmission(organization_id=organization_id, user_id=user_id, key=key, action=action[:50])
    db.add(row)
    db.flush()
    return row


def finish(db: Session, row: FormSubmission | None, result_url: str) -> None:
    if row is not None:
        row.result_url = result_url[:500]
        db.add(row)


def is_duplicate(exc: BaseException) -> bool:
    return isinstance(exc, guard.Conflict) and exc.code == DUPLICATE
