"""/healthz and /readyz, for the platform's probes."""
from flask.views import MethodView
from flask_smorest import Blueprint

from .db import DATABASE_ERRORS, database, discard_connection
from .errors import error_body

blp = Blueprint("health", __name__, description="Probes for the platform.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200)
    def get(self):
        """Liveness: 200 while the process runs"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Readiness: 200 when the database answers, else 503"""
        try:
            database.execute_sql("SELECT 1")
        except DATABASE_ERRORS:
            discard_connection()
            return error_body(503, "The database does not answer."), 503
        return {"status": "ok", "database": "ok"}
