"""/api/v1/changes: the feed of every change, for systems that follow them."""
from flask.views import MethodView

from ..web.api import ApiBlueprint
from ..web.etags import ETAG_HEADER
from ..web.links import next_link
from ..web.rendering import respond
from . import log as change_log
from .rendering import change_entry_row
from .schemas import ChangeFeedArgsSchema, ChangeFeedSchema, FeedPrunedSchema

blp = ApiBlueprint("changes", __name__, url_prefix="/api/v1/changes",
                   description="Every change to every mentor status and pause record, in order, exactly once.")
NEXT_LINK_HEADER = {"Link": {"description": 'rel="next": this request with after set to next_after',
                             "schema": {"type": "string"}}}


@blp.route("", strict_slashes=False)
class Changes(MethodView):
    @blp.arguments(ChangeFeedArgsSchema(), location="query")
    @blp.response(200, ChangeFeedSchema, headers={**ETAG_HEADER, **NEXT_LINK_HEADER})
    @blp.alt_response(410, schema=FeedPrunedSchema, description="Entries past `after` were pruned")
    @blp.read("listChanges")
    def get(self, args):
        """Follow every change, oldest first

        Start with `after=0` and always send back `next_after`: every entry arrives exactly once,
        whatever writes commit meanwhile. Entries older than the retention period are pruned; an
        `after` before them is a 410 that says where to start again.
        """
        after = args.pop("after")
        rows, next_after = change_log.feed(after, args.pop("limit"), **args)
        feed = {"data": [change_entry_row(row) for row in rows], "next_after": next_after}
        return respond(feed), next_link(after=next_after)
