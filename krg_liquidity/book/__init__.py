"""Data in: reading tables, column aliases and units, holdings checks, the Portfolio and its risk model."""
