from flask import Blueprint

bp = Blueprint("odyssey", __name__, url_prefix="/p/odyssey")
