"""lobestack's static suite."""
