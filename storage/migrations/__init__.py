"""Alembic migrations of the Caliper schema (a package so that installs ship them)."""
