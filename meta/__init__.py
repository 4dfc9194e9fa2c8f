"""Meta: catalog, meta store, cluster, scheduling, barriers, the LSM version and recovery."""
