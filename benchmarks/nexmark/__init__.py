"""The Nexmark benchmark: a generator of person / auction / bid events, the Nexmark queries in
KSQL, and DuckDB running the same queries as a batch over the same data as a reference."""
