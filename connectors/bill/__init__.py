"""The BILL v3 client: one HTTP seam (`http`), the shared session (`session`), the per-org gate
(`gate`), typed records (`records`), filters, the client (`client`) and webhook signatures."""
