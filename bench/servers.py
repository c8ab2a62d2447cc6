"""The servers the benchmark starts: harness.servers, shared with the tests, called the way the
benchmark names them (the app first, every setting by name)."""
from harness import servers
from harness.servers import REPO_ROOT, ServerError, free_port, gunicorn_settings

__all__ = ["REPO_ROOT", "Gunicorn", "ServerError", "free_port", "gunicorn_settings"]


class Gunicorn(servers.Gunicorn):
    """`app` under gunicorn.conf.py: `workers`, `worker_class` and `threads` None as it decides; `env`
    adds settings to the environment."""

    def __init__(self, app, *, database_url, workers, worker_class=None, threads=None, ready_path="/healthz",
                 log_path=None, env=None, root=REPO_ROOT):
        super().__init__(database_url, workers, env=env, app=app, worker_class=worker_class, threads=threads,
                         ready_path=ready_path, log_path=log_path, root=root)
