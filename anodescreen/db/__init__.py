"""Results schema, stores (embedded, MongoDB, mongomock) and queries."""
