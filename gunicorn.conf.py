"""Production serving (``gunicorn 'portal:create_app()'`` reads this file from the working
directory; every value can be overridden by an environment variable).

Each worker is a separate process with its own rule-context cache; nothing in-process is
needed for correctness: every request reads the organisation's rules version from the
database (with the signed-in user), so a closure, setting or catalog change made through any
worker on any machine is used by every worker on its next request (portal.rule_context).
"""
import gc
import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
#: Processes: 2 per core (requests wait on the database as much as on the CPU).
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
#: Threads per process (gthread): keep workers × threads within the database's connections
#: (SQLAlchemy's pool keeps up to 5 + 10 overflow per process).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
#: Recycle workers now and then (bounded memory growth); jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
#: No preload: each worker builds its own app and database pool after the fork.
preload_app = False


def post_worker_init(worker):
    """Move the app's start-up objects out of the garbage collector's way: collections
    then walk only what requests allocate (fewer, shorter pauses)."""
    gc.collect()
    gc.freeze()
