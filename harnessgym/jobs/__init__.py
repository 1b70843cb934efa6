"""Long jobs as the library owns them: starting, resuming and listing runs, and cleaning up after killed ones."""
