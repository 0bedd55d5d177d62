"""The GP agent: a small process the customer runs next to Dynamics GP. It connects OUT to the
connector over HTTPS (no inbound port), takes the GP requests queued for its tenant, runs them against
the local GP with NTLM (the GP password stays on this machine) and posts the answers back.

No Django and no database here: only `requests`, `requests-ntlm` and the standard library (SQLite for
the journal of writes it ran). Run it with `mlc-agent` or `python -m connectors.agent_client`.
"""

VERSION = "1.0.0"
