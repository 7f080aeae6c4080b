"""The plugin's pages (under /p/cbt_ipa)."""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("cbt_ipa", __name__, url_prefix="/p/cbt_ipa")
