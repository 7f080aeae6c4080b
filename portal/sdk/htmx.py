"""htmx responses: a partial for htmx requests, the full page otherwise (Vary: HX-Request)."""
from portal.htmx import details, is_htmx, redirect, render

__all__ = ["render", "is_htmx", "redirect", "details"]
