"""Liquidity stress engine (docs/model.md §6): scenarios, projection, survival horizon, stress LCR, CFP."""
