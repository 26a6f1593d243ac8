"""Static checks: the deployment directory alone (.env, the Compose file, the Nginx sites)."""
