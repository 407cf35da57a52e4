"""What if: comparison rules, scenarios, stress tests, sensitivity, liquidity profile and frontier."""
