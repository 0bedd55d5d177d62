"""BILL sandbox fixtures (filled in by the BILL side work)."""
