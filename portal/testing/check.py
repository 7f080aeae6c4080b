"""The conformance suite for ``flask --app portal check-provider ID`` (``--exam-portal-provider``)."""
from portal.testing.conformance import ConformanceSuite


class TestProviderConformance(ConformanceSuite):
    """Runs the whole suite against the provider named on the command line."""
