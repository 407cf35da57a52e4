"""What a trade costs: I-Star parameters, the impact model, per-name cost curves, volume profiles."""
