"""gunicorn settings (read from the working directory: ``gunicorn hub.wsgi``).

Threaded workers keep HTTP connections alive between requests, which matters once
pages come from the public cache (a cached page costs less than opening a connection);
a sync worker closes every connection.  Each variable can be overridden from the
environment (``GUNICORN_WORKERS``…) or the command line.
"""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
