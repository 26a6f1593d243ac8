"""Reports of every run: junit.xml, report.html, summary.json, redaction of secrets."""
