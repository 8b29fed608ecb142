"""Prefect flows: scheduled deadline sweeps, dispatch, bulk work, reports.

Empty for now: the flows arrive with the deadline-notification work (issue 4). Every operation
they will drive already exists as a plain function in ``tasks/``.
"""
