"""Runtime operators: one module each, each taking a batch and returning a batch; build.py has
their protocol and builds each from its plan node."""
