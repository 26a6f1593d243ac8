"""GPU layer: the server's NVIDIA GPU as the host, Docker and the model server see it (probes/gpu.py)."""
