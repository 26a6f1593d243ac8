"""lobestack's prod suite."""
