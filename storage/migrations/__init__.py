"""Alembic migrations of the Caliper schema (a package so that installs ship them).

May import: SQLAlchemy, Alembic and ``storage.db`` (for the metadata).
"""
