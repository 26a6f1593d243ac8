"""Where the stack under test comes from: an ephemeral one in testcontainers (compose), or a live deployment."""
