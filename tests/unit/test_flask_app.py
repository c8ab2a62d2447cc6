"""ServiceFlask keeps Flask's answer to ensure_sync for plain functions only."""
import asyncio

from mentor_status_service.web.flask_app import ServiceFlask


def test_a_plain_function_is_answered_as_flask_does_and_kept():
    app = ServiceFlask(__name__)

    def hook():
        return "ran"

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    assert app._sync == {hook: hook}


def test_a_bound_method_is_never_kept():
    class View:
        def get(self):
            return "ran"

    app = ServiceFlask(__name__)
    for _ in range(3):
        assert app.ensure_sync(View().get)() == "ran"
    assert app._sync == {}


def test_a_coroutine_function_still_runs_to_its_result():
    app = ServiceFlask(__name__)

    async def hook():
        await asyncio.sleep(0)
        return "ran"

    try:
        assert app.ensure_sync(hook)() == "ran"
    except RuntimeError as error:  # Flask without its async extra refuses coroutines, as before
        assert "async" in str(error)
