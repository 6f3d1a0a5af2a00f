"""django-tasks-db's ``db_worker``, quiet at the default verbosity.

The original writes two lines per task (``state=RUNNING``, then the outcome) on top of
the hub's own one line per task (``hub.tasks``, with its duration, hub/logs.py): at
``-v 1`` (the default, as in ``make run``) its task lines are dropped, its warnings and
failures kept (a failed task is still logged with its traceback).  ``-v 2`` gives them
all back; ``-v 0`` is the original's (critical only).
"""

from __future__ import annotations

import logging

from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand
from django_tasks_db.management.commands.db_worker import logger as worker_logger


class Command(DBWorkerCommand):
    help = DBWorkerCommand.help

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        if verbosity == 1:
            logging.getLogger(TASKS_LOGGER).setLevel(logging.WARNING)
            worker_logger.setLevel(logging.WARNING)
            self.stdout.write("Task worker started: it writes only warnings and failures "
                              "(-v 2 lists every task).")
