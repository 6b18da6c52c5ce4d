"""A Xero loopback sandbox: Xero's Accounting API and identity service, in memory.

Every body it reads or writes is checked against Xero's own OpenAPI made strict
(:mod:`.spec`).
"""
