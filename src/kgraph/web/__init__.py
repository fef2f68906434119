"""The web app: SPARQL endpoint, linked-data pages, explorer and audit views."""
