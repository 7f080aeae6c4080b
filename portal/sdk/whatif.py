"""The what-if of a rules edit on a plugin's own admin page: preview what the edit would move, save what was shown."""
from portal.whatif import PlanChanged, RulesEdit, confirmed, form_fingerprint, partial, preview, recomputing

__all__ = ["RulesEdit", "preview", "partial", "confirmed", "form_fingerprint", "recomputing", "PlanChanged"]
