"""A deliberately careless check, run only by tests/static/test_gate.py: it prints, logs and asserts on secrets.
The report plugin must mask every one of them in the terminal, junit.xml, report.html and summary.json."""

import logging


def test_leaks_secrets(deployment):
    secret = deployment.env.get("NEXT_AUTH_SECRET")
    print("stdout:", secret, deployment.env.get("S3_SECRET_ACCESS_KEY"))
    logging.getLogger("leaky").warning("log: %s %s", deployment.env.get("KEY_VAULTS_SECRET"), secret)
    dsn = deployment.lobe.environment["DATABASE_URL"]
    assert dsn == secret, f"compared {dsn} with {secret}"
