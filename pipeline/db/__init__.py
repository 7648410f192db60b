"""The DuckDB files: schema, connections and transactions, generated docs."""
