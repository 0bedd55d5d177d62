"""GP Web Services (SOAP): `ws_map` (every operation and element), `convert` (Web Services objects as the
records the flows use), `client` (`GPWSClient`, the same interface as the SBA `GPClient`)."""
