"""Citations that never break: the ledger, resolution, formats and quote lookup."""
