"""Research tooling: random systems and the relaxation-gap sweep (SPEC A.6)."""
