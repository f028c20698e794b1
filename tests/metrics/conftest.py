"""The console fixtures, for the dashboard tests."""

from tests.console.conftest import signed_in

__all__ = ["signed_in"]
