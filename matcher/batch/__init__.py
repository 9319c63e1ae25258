"""The nightly push: one resumable run over every active seeker (run), the push rules (push), checkpoints and the Dask
cluster.
"""

__all__: list[str] = []
