"""The GP side: `http` (the one seam: session, NTLM, TLS, timeouts, retries, `GPError`), `resource_map`
(every Part B name), `records` (typed records), `client` (`GPClient`: listing, reads, writes, test)."""
