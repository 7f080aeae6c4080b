"""The portal's conformance kit (portal.testing) run against this provider."""
from portal.testing import ConformanceSuite


class TestConformance(ConformanceSuite):
    provider_id = "cbt_ipa"
