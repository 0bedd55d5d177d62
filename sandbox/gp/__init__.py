"""GP SBA sandbox: docs/gp_sba.md Part B served over real HTTP(S) with real NTLM. No Django.

`server.start_gp_sandbox(...)` starts one in-process (tests, `run_sandbox`); `python -m sandbox.gp`
runs one from the shell. Modules: `store` (sorted tables), `builders` and `seeds` (data), `company`
(GP's rules), `query` (list queries), `auth` (NTLM/Basic), `handler` + `control_api` (HTTP), `app`
(state), `control` (a tiny HTTP client for `/_sandbox/` from another process).
"""
