"""Every side effect, one package per outside system, each behind a narrow port with vendor and local implementations."""
