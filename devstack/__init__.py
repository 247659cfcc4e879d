"""The embedded dev stack: `python3 dev.py up` (PostgreSQL from a wheel, the Temporal dev server
with its UI, the codec server, the HTTP API and the worker) and the live demo."""
