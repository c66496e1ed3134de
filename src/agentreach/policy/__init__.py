"""Effective-permission evaluation: what each identity can do, from stored policy documents."""
