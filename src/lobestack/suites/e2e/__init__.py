"""lobestack's e2e suite."""
