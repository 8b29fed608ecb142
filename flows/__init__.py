"""Prefect flows: the deadline sweep, the dispatch of messages, the daily digests, bulk work.

A flow composes tasks; a task wraps one operation of ``tasks/`` or ``notifications/`` (each a
plain function that the command line also calls directly). Work is batched inside the
operation, in plain Python: one flow run per sweep or dispatch, never a flow or task run per
case. Every run publishes its summary as a Prefect artifact with a stable key per flow.

- :mod:`flows.schedules`: when each flow runs, defined once (``prefect.yaml`` mirrors it);
- :mod:`flows.common`: the runtime the flows use, the retry rule (transient errors only), the
  artifacts;
- :mod:`flows.deadlines`: ``sweep_deadlines``;
- :mod:`flows.notify`: ``dispatch_notifications`` and ``send_digests``;
- :mod:`flows.bulk`: ``bulk_advance``, one event applied to a list of cases;
- :mod:`flows.serve`: the deployments, served on their schedules (``python -m flows.serve``).

The demo's days of sweeps, digests and dispatch under a moving clock are :mod:`demo.simulate`
(plain Python, no Prefect): the demo sits above the flows.

Importing this package imports no Prefect: only the flow modules do.
"""
