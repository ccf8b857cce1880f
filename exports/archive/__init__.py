"""What is made from an archive of articles: predicted datasets.

``source`` reads the archive (Parquet, streamed), ``batch`` turns one batch of articles into rows of the
published codec (the function a distributed engine calls per partition), ``local_run`` runs it on one machine
with worker processes, crash-safe, into partitioned Parquet, and ``predictions`` reads the result back as
documents.
"""
