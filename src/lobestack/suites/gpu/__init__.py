"""lobestack's gpu suite."""
