"""Results schema, stores (embedded, MongoDB, mongomock), stored calculations, queries, exports and the report."""
