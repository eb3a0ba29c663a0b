"""The web layer: the app factory, and one blueprint per area."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from intake.store.settings import DEFAULTS, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application for one instance folder and keyring."""
    config = dict(test_config or {})
    instance_path = Path(config.pop("INSTANCE_PATH", None)
                         or os.environ.get("INTAKE_INSTANCE") or "instance").resolve()
    # Named for the package, so Flask finds intake/static and Babel intake/translations.
    app = Flask("intake", instance_path=str(instance_path), instance_relative_config=True,
                template_folder=str(ROOT / "templates"))
    app.config.from_mapping(DEFAULTS, KEYS_DIR=os.environ.get("INTAKE_KEYS_DIR") or "keys")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("INTAKE")
    app.config.from_mapping(config)

    from intake.web import bound, database, errors, i18n, offline, security, uploads

    i18n.init_app(app)
    errors.init_app(app)
    try:
        settings = Settings.from_config(app.config, instance_path)
    except SettingsError as exc:
        # Nothing of a configuration that failed its checks is shown: the defaults are.
        app.jinja_env.globals.update(quick_exit_url=DEFAULTS["QUICK_EXIT_URL"],
                                     organisation=DEFAULTS["ORGANISATION_NAME"])
        bound.bind_settings(app, None)
        security.init_app(app)
        offline.init_app(app, str(exc))
        return app
    app.jinja_env.globals.update(quick_exit_url=settings.quick_exit_url,
                                 organisation=settings.organisation_name)
    bound.bind_settings(app, settings)
    database.init_app(app, settings.database_url)
    # Before security: a full disk is refused before any request body is read.
    uploads.init_app(app, settings)
    security.init_app(app)

    from intake.web.admin import bp as admin_bp
    from intake.web.admin import enrol_bp
    from intake.web.followup import bp as followup_bp
    from intake.web.operator import bp as operator_bp
    from intake.web.review import bp as review_bp
    from intake.web.submit import bp as submit_bp

    app.register_blueprint(submit_bp)
    app.register_blueprint(followup_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(enrol_bp)
    app.register_blueprint(operator_bp)
    offline.guard_family_side(app)
    return app
