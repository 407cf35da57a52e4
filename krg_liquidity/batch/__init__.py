"""Many books at once: requests, a process pool or a Dask cluster, durable per-book output."""
