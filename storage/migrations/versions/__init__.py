"""Alembic revision scripts (one module per revision).

May import: SQLAlchemy and Alembic only (a revision must not change when the models do).
"""
