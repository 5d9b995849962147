"""The workspace on disk: the SQLite catalogue and artefact folders, the space folder
format, model cards and user model folders."""
