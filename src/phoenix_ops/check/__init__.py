"""The `check` command: its pipeline, settings, suppression comments and baselines."""
