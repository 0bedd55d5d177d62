"""GP sandbox fixtures (filled in by the GP side work)."""
