"""A deliberately careless check, run only by tests/static/test_gate.py: it prints, logs and asserts on secrets.
The report plugin must mask every one of them in the terminal, junit.xml, report.html and summary.json."""

import logging


def test_leaks_secrets(deployment):
    secret = deployment.env.get("NEXT_AUTH_SECRET")
    print("stdout:", secret, deployment.env.get("S3_SECRET_ACCESS_KEY"))
    logging.getLogger("leaky").warning("log: %s %s", deployment.env.get("KEY_VAULTS_SECRET"), secret)
    dsn = deployment.lobe.environment["DATABASE_URL"]
    assert dsn == secret, f"compared {dsn} with {secret}"


def test_leaks_encoded_secrets(deployment):
    """The same secrets as a careless client would send and log them: in a form body, JSON, HTML and Basic
    credentials (tests/static/test_gate.py sets secrets with spaces, quotes, `&`, `/` and non-ASCII characters)."""
    import base64
    import html
    import json
    from urllib.parse import quote, quote_plus

    password = deployment.env.get("LOBE_DB_PASSWORD")
    client_id, client_secret = deployment.env.get("AUTH_LOGTO_ID"), deployment.env.get("AUTH_LOGTO_SECRET")
    basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()).decode()
    print("body:", f"password={quote_plus(password)}&next={quote(password, safe='')}")
    print("json:", json.dumps({"password": password, "client_secret": client_secret}))
    logging.getLogger("leaky").warning("html: <p>%s</p>", html.escape(client_secret))
    assert not basic, f"Authorization: Basic {basic}; b64 {base64.urlsafe_b64encode(password.encode()).decode()}"
