"""The portal with the sample provider alone, for tests that serve it from another process
(gunicorn ``tests.sample_provider.serve:create_app()``)."""
from __future__ import annotations

import portal
import tests.sample_provider as sample


def create_app():
    return portal.create_app({"EXAM_PORTAL_PLUGINS": "-"}, plugins=[sample])
