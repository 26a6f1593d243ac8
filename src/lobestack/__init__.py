"""lobestack: deploy and verify a self-hosted LobeChat + Logto + MinIO + PostgreSQL/pgvector + Nginx stack."""

__version__ = "0.1.0"
