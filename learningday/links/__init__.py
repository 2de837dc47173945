"""Signed links that stand in for a sign-in: a check-in page, a flag's excuse, a claim's approval.

Below both the web (which reads them) and the activities (whose emails, DMs and calendar holds
carry them), so neither has to import the other to build one.
"""
