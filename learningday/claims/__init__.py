"""Self-study expense claims: submission, receipts, approval links, export and balances."""
