"""lobestack's host suite."""
