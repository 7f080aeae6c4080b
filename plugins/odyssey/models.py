"""The Odyssey plugin's tables (prefix ``odyssey_``), each scoped by ``organization_id``."""
