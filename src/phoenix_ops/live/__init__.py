"""Live probes of a running Phoenix deployment, seen from outside: `phoenix-ops probe`."""
