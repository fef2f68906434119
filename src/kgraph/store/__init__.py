"""Storage behind one repository interface: embedded Oxigraph or a remote SPARQL 1.1 store."""
