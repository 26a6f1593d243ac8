"""lobestack's own repository: the suites' plugin is the installed package's (`pytest11` entry point
lobestack.plugin); this file only marks the repository root for pytest."""
