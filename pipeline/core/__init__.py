"""The ground floor: the data contract, params, errors, the month calendar, atomic writes.

Nothing here imports a module of ours from above it.
"""
