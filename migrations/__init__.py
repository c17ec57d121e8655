"""Alembic migrations; `db.engine.migrate` runs them to head."""
