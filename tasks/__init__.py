"""The operations on cases: plain functions, each one transaction, each taking an actor.

The console calls them directly; Prefect flows wrap them as tasks.
"""
