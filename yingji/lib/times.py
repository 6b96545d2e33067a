"""Times people can mean and databases can store."""

import datetime


def usable(moment: datetime.datetime) -> bool:
    """Years 1900–2200 in UTC: xs:dateTime and ISO 8601 allow 0001 or 9999 with an offset,
    which overflows on conversion to UTC or is a typing slip."""
    try:
        return 1900 <= moment.astimezone(datetime.UTC).year <= 2200
    except (OverflowError, ValueError):
        return False
