"""Batch executors: run an ad-hoc query or a DML statement over a committed snapshot.

`execute(plan, ctx)` streams a batch plan's result as Arrow record batches
with columns `c0..cn`; `BatchContext` carries the snapshot epoch, the table
reader, the DML sink and the cancellation flag.
"""

from compute.batch.context import BatchContext, DmlSink, TableReader
from compute.batch.executor import execute

__all__ = ["BatchContext", "DmlSink", "TableReader", "execute"]
