"""Prometheus scrapes of a node (prometheus-client's parser): the `metrics` command and its rules."""
