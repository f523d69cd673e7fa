"""Records of what happened in a simulation and the summary computed from them."""
