"""Provider plugins bundled with the portal. Each sub-package is self-contained (rules,
data, templates, tests) and is registered through the ``exam_portal`` entry-point group
exactly as a third-party plugin would be."""
