"""`flask --app wsgi webhooks deliver`: the delivery process (the Procfile's worker)."""
import signal

from flask import current_app
from flask.cli import AppGroup

from ..web import tracing
from .delivery import Deliverer, Settings

webhooks_cli = AppGroup("webhooks", help="Webhook delivery.")


@webhooks_cli.command("deliver")
def deliver_command():
    """Deliver every change to the enabled webhooks until SIGTERM (the Procfile's worker)."""
    tracing.start_tracing(current_app.config["TRACING"])  # this process's own provider, as a web worker's
    deliverer = Deliverer(Settings.of(current_app.config))
    signal.signal(signal.SIGTERM, deliverer.stop)
    signal.signal(signal.SIGINT, deliverer.stop)
    try:
        deliverer.run()
    finally:
        tracing.stop_tracing()
