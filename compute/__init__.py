"""Compute nodes: the actor runtime, stream and batch executors, expression evaluation."""
