"""The prod layer: what only makes sense from outside, against the deployment at its public URLs (read-only): the
names in DNS, internal ports closed on every public address, no plain HTTP where it must not be, certificate
lifetime in two stages, default credentials refused, and the versions the running services report."""
