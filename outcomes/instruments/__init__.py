"""The instruments RegenClinic ships, by code. See `base.py` for what an instrument is."""

from outcomes.instruments.base import Instrument

INSTRUMENTS: dict[str, Instrument] = {}


def register(instrument: Instrument) -> Instrument:
    if instrument.code in INSTRUMENTS:
        raise ValueError(f"Instrument {instrument.code} is registered twice.")
    INSTRUMENTS[instrument.code] = instrument
    return instrument


def get(code: str) -> Instrument:
    return INSTRUMENTS[code.upper()]


# Each module registers its instrument on import; keep these lines sorted.
from outcomes.instruments import ases as ases  # noqa: E402
from outcomes.instruments import koos_family as koos_family  # noqa: E402
from outcomes.instruments import lefs as lefs  # noqa: E402
from outcomes.instruments import nrs as nrs  # noqa: E402
from outcomes.instruments import odi as odi  # noqa: E402
from outcomes.instruments import pgic as pgic  # noqa: E402
from outcomes.instruments import sane as sane  # noqa: E402
from outcomes.instruments import visa_p as visa_p  # noqa: E402
