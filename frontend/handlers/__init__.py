"""One handler module per statement family, called from the session's pipeline."""
