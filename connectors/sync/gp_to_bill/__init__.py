"""GP → BILL: vendors, GL accounts, segment values, approved invoices and credit memos become BILL
vendors, chart-of-accounts entries, classifications, bills and vendor credits; BILL's amount due is
kept at or under what GP has open."""
