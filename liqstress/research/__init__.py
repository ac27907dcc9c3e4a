"""Research tooling: random systems and the relaxation-gap sweep (docs/model.md §4)."""
