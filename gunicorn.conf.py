"""Production serving. `make serve-prod` runs:

    gunicorn --config gunicorn.conf.py 'app:create_app()'

Every setting can be overridden by an environment variable, so one file serves a laptop,
a container and a VM. Put a TLS-terminating proxy or CDN in front; the app sends ETag and
Cache-Control headers keyed to the index revision so that proxy can absorb spikes.
"""

import gc
import os

# 127.0.0.1 by default: the proxy in front is the only thing that should reach us.
bind = os.environ.get("KB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("KB_WORKERS", "2"))
threads = int(os.environ.get("KB_THREADS", "4"))
# gunicorn's gthread worker, answering its own errors in the app's JSON shape with the
# security headers, and never recycled while the index folder has no live index.
worker_class = "kb.web.server.Worker"
timeout = int(os.environ.get("KB_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("KB_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# The longest search (500 characters in any script, percent-encoded: up to 12 bytes each)
# must fit the request line; 8190 is the most gunicorn allows, longer gets 414.
limit_request_line = 8190
# Recycle workers now and then, staggered, so slow leaks never accumulate (not while the
# index folder is gone: a fresh worker would have no generation to serve).
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the local proxy (request.is_secure then sees HTTPS).
forwarded_allow_ips = os.environ.get("KB_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("KB_ACCESS_LOG", "-")
# By default the access log keeps no client address and no query string: a search text
# tied to an address is personal data about political opinions (see the README's "What is
# stored"). Method, path, status, size and milliseconds are enough to run the site.
access_log_format = os.environ.get(
    "KB_ACCESS_LOG_FORMAT", '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
)
errorlog = "-"
loglevel = os.environ.get("KB_LOG_LEVEL", "info")
proc_name = "positions"
# gunicorn (27.x) sends "Server: gunicorn" with no version number; nothing more to strip.

# The app is loaded once, in the main process, and the workers are forked from it: they
# start at once, sharing its pages, among them the live index's tables that create_app
# reads before serving (app.py). KB_PRELOAD=0 loads the app in each worker instead.
preload_app = os.environ.get("KB_PRELOAD", "1") != "0"


def when_ready(server):
    """Before the workers are forked: keep the collector's passes off the objects the
    main process made (the app, the index's tables), which would otherwise touch, and
    so copy, the shared pages in every worker."""
    if server.cfg.preload_app:
        gc.freeze()
        server.log.info("Workers start from the app loaded once")
