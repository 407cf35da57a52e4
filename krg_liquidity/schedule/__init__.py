"""When to trade: POV and VWAP schedules, optimal single-name and basket schedules, their engines."""
