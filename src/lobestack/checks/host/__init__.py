"""Host layer: the server itself, read through testinfra (probes/host.py): Docker, the deployment's containers,
listening ports, Nginx, time, disk and firewall. One module per group."""
