"""Liquidity stress engine (SPEC Part B): scenarios, projection, survival horizon, stress LCR, CFP."""
