"""The fake Marketo for tests. It lives in the package (overture/integrations/marketo/fake.py) because the CLI starts
it for the demo and benchmarks; tests import it from here, as they import the other fakes."""

from overture.integrations.marketo.fake import FakeClock, FakeMarketo

__all__ = ["FakeClock", "FakeMarketo"]
