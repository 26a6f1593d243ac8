"""Live checks: a running stack, reached through any target (targets/)."""
