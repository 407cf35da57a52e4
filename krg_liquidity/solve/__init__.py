"""Which names and how much: requests, limits, the engine stages, the independent check and explanations."""
