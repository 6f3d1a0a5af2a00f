"""Settings of the Python runtime for the hub's long-running processes (the gunicorn
workers, the task worker).

CPython's cyclic garbage collector runs a young-generation pass every 700 new container
objects.  One page of the hub allocates tens of thousands of them (querysets, template
contexts, model instances), almost all freed by reference counting at the end of the
request, so those passes find nothing to collect while walking what is still alive.
Once the process has loaded Django and the hub, :func:`settle_garbage_collector` moves
everything alive to the permanent generation (``gc.freeze``: never scanned again) and
makes the young-generation pass ten times rarer here; cycles are still collected.
"""

from __future__ import annotations

import gc

# New container objects between young-generation passes (CPython's default: 700); the
# older generations keep their default ratios.
YOUNG_GENERATION_THRESHOLD = 7_000


def settle_garbage_collector() -> None:
    """Called once the process is loaded, before it serves anything."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
