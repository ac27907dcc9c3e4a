"""Data and optimisation formulations (pydantic file schemas, Pyomo/CVXPY models)."""
