"""`release verify`: a built Mix release, booted on loopback, proven before it gets any traffic."""
