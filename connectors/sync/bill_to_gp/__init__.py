"""BILL → GP: payments become GP manual payments applied to their vouchers, vendor credits used in them
become GP credit-memo applies, and BILL vendor changes reach GP (the fields the tenant allows)."""
