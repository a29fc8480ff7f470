"""The engine fixtures, for contract tests that need calls to move."""

from tests.dispatcher.conftest import make_dispatcher, simulated

__all__ = ["make_dispatcher", "simulated"]
