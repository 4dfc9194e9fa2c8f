"""State storage: object stores, SSTs, the epoch-versioned LSM and state tables."""
