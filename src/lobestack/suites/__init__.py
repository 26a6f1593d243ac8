"""lobestack's shipped suites: run them with `lobestack check LAYER` or `pytest --pyargs lobestack.suites.LAYER`."""
