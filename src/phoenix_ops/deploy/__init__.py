"""`deploy`: a release rolled out to hosts over SSH, gated at every step, journaled, rolled back on failure."""
