"""The BEAM cluster doctor: discovery, EPMD, the distribution protocol, diagnosis."""
