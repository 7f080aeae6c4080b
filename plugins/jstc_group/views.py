"""Pages of the JSTC group workflow (placeholder while being built)."""
from flask import Blueprint

bp = Blueprint("jstc_group", __name__, url_prefix="/p/jstc_group")
