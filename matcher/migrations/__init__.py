"""Alembic migrations of the database schema (run them with :func:`matcher.db.upgrade`)."""
