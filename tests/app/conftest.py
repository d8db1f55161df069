"""Fixtures shared by the reading-session tests.

``template_db``, ``database``, ``session`` and ``baseline`` are defined in ``test_session.py``;
imported here, every test module of ``tests/app`` can request them by name instead of importing
them (an imported fixture that a test then takes as an argument reads as a redefinition, F811).
A module that defines a fixture of the same name keeps its own.
"""

from tests.app.test_session import baseline, database, session, template_db

__all__ = ["baseline", "database", "session", "template_db"]
