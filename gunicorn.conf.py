"""gunicorn settings (read from the working directory: ``gunicorn hub.wsgi``).

Threaded workers keep HTTP connections alive between requests, which matters once
pages come from the public cache (a cached page costs less than opening a connection);
a sync worker closes every connection.  Each variable can be overridden from the
environment (``GUNICORN_WORKERS``…) or the command line.

Each worker listens on its own socket (``SO_REUSEPORT``) and the kernel spreads new
connections among them.  On one shared socket a threaded worker accepts every
connection it is woken for, and kept-alive connections stay where they were accepted:
measured on 2 cores with 16 kept-alive clients (``bench/signed_in.py``), one worker
held all 16 in four runs out of five while the other sat idle, and the signed-in pages
ran at half their rate.  ``GUNICORN_REUSE_PORT=0`` returns to the shared socket (systems
without ``SO_REUSEPORT``, or a socket handed over by systemd).
"""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") not in ("0", "false", "no")
