"""The domain core of Produzir: the case lifecycle, deadlines, persistence and the audit chain.

Nothing here imports Prefect, FastAPI, Typer or Jinja2, nor any other package of ours.
"""
