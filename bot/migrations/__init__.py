"""Alembic environment and revisions of the conversation database (shipped in the package)."""
