"""The mentor status service: `create_app` builds it."""
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint

from . import db
from .changes import feed
from .changes.commands import changes_cli
from .config import Config, parse_secrets_key, split_access_overrides
from .db import sealed
from .db import views as db_views
from .db.commands import db_cli
from .pausing import commands as pausing_commands
from .pausing import mentor_statuses, pause_records
from .pausing.metrics import ListTotalsCollector
from .server.request_bodies import BodyDeadline
from .web import auth, export_streams, health, metrics, rate_limits, rendering, tracing
from .web.api import ServiceApi, bulk_body_limits
from .web.cors import register_cors
from .web.errors import register_error_handlers
from .web.flask_app import ServiceFlask
from .web.headers import register_security_headers
from .web.idempotency import register_idempotency
from .web.logs import configure_logging
from .webhooks import urls as webhook_urls
from .webhooks import views as webhooks
from .webhooks.commands import webhooks_cli
from .webhooks.metrics import WebhookCollector

# The contract joined a base path and a route, so it lists every path with this prefix doubled.
CONTRACT_PATH_PREFIX = "/api/v1/mentor-statuses"
SWAGGER_UI_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
API_BLUEPRINTS = (mentor_statuses.blp, pause_records.blp, feed.blp, webhooks.blp)


def create_app(overrides=None):
    """The app, configured from the environment and `overrides`; ConfigurationError if unusable."""
    app = ServiceFlask(__name__)
    # Werkzeug would answer a path with repeated slashes with a redirect built from the Host header
    # (an open redirect, and HTML): without merging, such a path matches no rule and is a JSON 404.
    app.url_map.merge_slashes = False
    access_overrides, overrides = split_access_overrides(overrides)
    app.config.update(Config(access_overrides=access_overrides).as_dict())
    if "SECRETS_KEY" in overrides:  # as the environment's, parsed: only the cipher is kept
        overrides["SECRETS_CIPHER"] = parse_secrets_key(overrides.pop("SECRETS_KEY"))
    app.config.update(overrides)
    app.json = rendering.JSONProvider(app)
    app.json.sort_keys = False  # fields in the order the schemas declare them, as in the contract
    tracing.init_app(app)  # first: a request's span encloses every hook
    configure_logging(app)
    auth.warn_when_open(app)
    webhook_urls.warn_when_relaxed(app.config)
    sealed.configure(app.config["SECRETS_CIPHER"])
    api = register_extensions(app)
    register_blueprints(app, api)
    register_contract_aliases(app, API_BLUEPRINTS)
    register_docs_assets(app)
    register_idempotency(app, API_BLUEPRINTS)
    run_api_views_with_database(app, API_BLUEPRINTS)
    register_error_handlers(app)
    register_commands(app)
    register_cors(app)
    register_security_headers(app)
    app.wsgi_app = BodyDeadline(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], app.config["REQUEST_BODY_TIMEOUT_S"],
                                bulk_body_limits(app))
    return app


def register_extensions(app):
    db.init_app(app)
    metrics.init_app(app, collectors=(ListTotalsCollector, WebhookCollector))
    rate_limits.init_app(app)  # after the request id and timer are set, before every blueprint's hooks
    export_streams.init_app(app)
    api = ServiceApi(app)
    api.spec.components.security_scheme(auth.BEARER_AUTH, auth.SECURITY_SCHEME)
    return api


def register_blueprints(app, api):
    for blueprint in (*API_BLUEPRINTS, health.blp):
        api.register_blueprint(blueprint)


def register_contract_aliases(app, blueprints):
    """Serve every path of `blueprints` under the contract's doubled prefix too, with the same views."""
    names = tuple(f"{blueprint.name}." for blueprint in blueprints)
    for rule in list(app.url_map.iter_rules()):
        if rule.endpoint.startswith(names):
            app.add_url_rule(CONTRACT_PATH_PREFIX + rule.rule, endpoint=rule.endpoint,
                             view_func=app.view_functions[rule.endpoint],
                             # Without OPTIONS, so that Flask answers it (Allow, CORS preflights) as on the original.
                             methods=rule.methods - {"OPTIONS"},
                             strict_slashes=rule.strict_slashes)


def register_docs_assets(app):
    """Swagger UI's files, served from the flask-swagger-ui package so /docs needs no internet."""
    app.register_blueprint(Blueprint("swagger_ui_assets", __name__, static_folder=SWAGGER_UI_ASSETS,
                                     static_url_path=app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/")))


def register_commands(app):
    for command in (db_cli, changes_cli, webhooks_cli, *pausing_commands.COMMANDS):
        app.cli.add_command(command)


def run_api_views_with_database(app, blueprints):
    """Every view of `blueprints` runs through `db_views.run_view`: schema brought up to date, one more
    try on a fresh connection when its connection was lost (aliases share the same view)."""
    names = tuple(f"{blueprint.name}." for blueprint in blueprints)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(names):
            app.view_functions[endpoint] = db_views.run_view(view)
