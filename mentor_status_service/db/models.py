"""What every table shares: the database it lives in, and the clock its timestamps are read from."""
import datetime as dt

from peewee import Model

from .handle import database
from .sql_cache import PreparedSaves


def utc_now():
    """Naive UTC, to the second: the precision the API stores and returns."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class BaseModel(PreparedSaves, Model):
    class Meta:
        database = database
        legacy_table_names = False
        only_save_dirty = True  # an UPDATE names only the columns a write changed
