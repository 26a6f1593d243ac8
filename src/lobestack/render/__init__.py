"""`lobestack init`: render a deployment directory from the bundle for one set of domains."""
