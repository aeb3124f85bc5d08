"""Shared by the three suites (conformance, infra, e2e): the `stack`
fixture, one local stack per pytest run. Helpers live in `helpers/`."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.stack import start_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    yield from start_stack()
