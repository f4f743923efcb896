"""Runtime operators: one module each, each taking a batch and returning a batch."""
