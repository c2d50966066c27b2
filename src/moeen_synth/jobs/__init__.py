"""The jobs the CLI calls, one module each: load (into PostgreSQL), export (files), load_files
(exported files as a load's source), lifecycle (backups and rollback)."""
