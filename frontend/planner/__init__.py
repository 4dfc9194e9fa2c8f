"""Planning: logical plans, the optimizer, and batch and stream plan generation."""
