"""The sync flows: GP → BILL vendors, GL accounts and bills; BILL → GP payments and vendors."""
