"""Protocol clients that gather facts from a running stack. They return data or raise ProbeError; suites assert."""
