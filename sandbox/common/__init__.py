"""Pieces shared by the GP and BILL sandboxes. Plain standard library + `cryptography`; no Django.

- `httpserver`: `SandboxServer` (threaded HTTP/1.1 keep-alive server, optional TLS, stops fast) and
  `SandboxHandler` (reads the body once, JSON helpers, records stats, connection reset), plus
  `serve_in_thread(server) -> RunningServer` with `.url` and `.stop()`.
- `faults`: `FaultPlan` (latency, fault kinds '5xx' / 'timeout' / 'reset' / 'lock' at a rate or for the
  next N requests, deterministic) and `RequestStats` (counts by path and status, JSON-ready).
- `tls`: `make_self_signed_cert(hosts)` -> `SelfSignedCert` with PEMs, an `ssl.SSLContext` for the server
  and the RFC 5929 `tls-server-end-point` hash (for NTLM channel bindings).

Keep this package small and stable: both sandboxes import it.
"""
