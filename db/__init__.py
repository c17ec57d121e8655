"""Storage: SQLAlchemy models, engine, and the few queries each feature needs."""
