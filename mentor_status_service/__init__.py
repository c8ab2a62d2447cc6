"""The mentor status service: `create_app` builds it."""
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask

from . import db, health, mentor_statuses, pause_records
from .api_blueprint import BEARER_AUTH
from .commands import register_commands
from .config import Config, token_list
from .errors import ServiceApi, register_error_handlers
from .logs import configure_logging
from .request_bodies import BodyDeadline

# The contract joined a base path and a route, so it lists every path with this prefix doubled.
CONTRACT_PATH_PREFIX = "/api/v1/mentor-statuses"
SWAGGER_UI_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"


def create_app(overrides=None):
    app = Flask(__name__)
    app.config.update(Config().as_dict())
    app.config.update(overrides or {})
    if isinstance(app.config["API_WRITE_TOKENS"], str):
        app.config["API_WRITE_TOKENS"] = token_list(app.config["API_WRITE_TOKENS"])
    app.json.sort_keys = False  # fields in the order the schemas declare them, as in the contract
    configure_logging(app)
    api = register_extensions(app)
    register_blueprints(app, api)
    run_api_views_with_database(app, (mentor_statuses.blp, pause_records.blp))
    register_error_handlers(app)
    register_commands(app)
    app.after_request(add_security_headers)
    app.wsgi_app = BodyDeadline(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], app.config["REQUEST_BODY_TIMEOUT_S"])
    return app


def register_extensions(app):
    db.init_app(app)
    api = ServiceApi(app)
    api.spec.components.security_scheme(BEARER_AUTH, {
        "type": "http", "scheme": "bearer",
        "description": "Needed for writes only when the operator sets API_WRITE_TOKENS."})
    return api


def register_blueprints(app, api):
    for blueprint in (mentor_statuses.blp, pause_records.blp, health.blp):
        api.register_blueprint(blueprint)
    register_contract_aliases(app, (mentor_statuses.blp, pause_records.blp))
    app.register_blueprint(Blueprint("swagger_ui_assets", __name__, static_folder=SWAGGER_UI_ASSETS,
                                     static_url_path=app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/")))


def register_contract_aliases(app, blueprints):
    """Serve every path of `blueprints` under the contract's doubled prefix too, with the same views."""
    names = tuple(f"{blueprint.name}." for blueprint in blueprints)
    for rule in list(app.url_map.iter_rules()):
        if rule.endpoint.startswith(names):
            app.add_url_rule(CONTRACT_PATH_PREFIX + rule.rule, endpoint=rule.endpoint,
                             view_func=app.view_functions[rule.endpoint], methods=rule.methods,
                             strict_slashes=rule.strict_slashes)


def run_api_views_with_database(app, blueprints):
    """Every view of `blueprints` runs through `db.run_view`: schema brought up to date, one more
    try on a fresh connection when its connection was lost (aliases share the same view)."""
    names = tuple(f"{blueprint.name}." for blueprint in blueprints)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(names):
            app.view_functions[endpoint] = db.run_view(view)


def add_security_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
