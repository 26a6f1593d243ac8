"""The typed model of one deployment directory, built once; every static check reads it, never raw files."""

from lobestack.deployment.model import Deployment, load_deployment

__all__ = ["Deployment", "load_deployment"]
