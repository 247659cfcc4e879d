"""Runtime glue: settings, the Temporal client, logging, and the embedded stack."""
