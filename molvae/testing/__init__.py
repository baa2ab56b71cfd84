"""Reusable test suites for molvae's plugin points, for molvae's own tests and for packages that
extend molvae (as Optuna ships ``optuna.testing``). They need pytest (the ``test`` extra).

- :mod:`molvae.testing.components`: the contract every scoring component kind must keep.
"""
