"""Schema revisions, oldest first; bot.db.upgrade_to_head applies them on start."""
