"""Exports of core and mart tables (and raw bodies) to Parquet, CSV and JSON Lines, and the dbt sources."""
