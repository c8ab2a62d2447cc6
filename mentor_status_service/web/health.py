"""/healthz and /readyz, for the platform's probes."""
import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..db import DATABASE_ERRORS, database, discard_connection, ensure_schema

blp = Blueprint("health", __name__, description="Probes for the platform.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="getHealth")
    def get(self):
        """Liveness: 200 while the process runs"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="getReadiness")
    def get(self):
        """Readiness: 200 when the database answers and its schema is up to date, else 503"""
        try:
            ensure_schema()
            database.execute_sql("SELECT 1")
        except DATABASE_ERRORS:
            discard_connection(all_idle=True)
            abort(503, message="The database does not answer.")
        return {"status": "ok", "database": "ok"}
