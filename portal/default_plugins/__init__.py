"""Built-in behaviour registered as plugins (as datasette does): the core's own records
answer the collecting hooks like any plugin would."""
from portal.default_plugins import core_records

DEFAULT_PLUGINS = (core_records,)
