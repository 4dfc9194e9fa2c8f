"""The streaming runtime: actors, exchanges, barrier collection and stream executors."""
