"""The GP resource map, where the GP client and the flows have always found it (`rm.Vendor.NAME`, `Shape`).

The names themselves live in `connectors.gp_words`, below the clients: they are pure vocabulary (no I/O),
and the tenant records (`connectors.models`) build a connection's `Shape` from them without reaching up
into the GP client (docs/layers.md).
"""

from connectors.gp_words import *  # noqa: F403  (the whole vocabulary, re-exported under its old name)
