"""The independent agent benchmark: estates translated from material others wrote (vendors'
sample repositories, Terraform modules, install guides), each case with its provenance.

``load.build()`` turns the YAML under ``data/`` into the records our connectors emit, by
running the connectors' own pure transforms on API-shaped answers.
"""
