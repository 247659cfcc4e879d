"""Activities: every piece of I/O the appeal lifecycle does. Each one is idempotent."""
