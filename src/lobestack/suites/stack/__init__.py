"""lobestack's stack suite."""
