"""The refund account checked before the cancel confirmation is asked: the browser sends
the form here first (``portal.js``, on htmx's confirm event), so a bad holder name is
shown next to its field at once, never after the user already confirmed."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from portal.i18n import request_language
from portal.models import Booking
from portal.scoping import get_or_404
from portal.zengin import validate_refund_account

bp = Blueprint("refund_account", __name__)


@bp.post("/bookings/<int:booking_id>/refund-account/check")
def validate(booking_id: int):
    get_or_404(Booking, booking_id)  # the organisation's booking, or 404
    _, errors = validate_refund_account(request.form)
    if errors:
        lang = request_language()
        return jsonify({"errors": {field: message.text(lang) for field, message in errors.items()}}), 422
    return "", 204
