"""What a NAICS code says about a business: manufacturing (31-33) and apparel/textiles."""

from __future__ import annotations

from typing import Protocol


class IndustryAnswers(Protocol):
    """What these helpers read: the screening inputs, or the pilot's facts."""

    @property
    def manufacturer(self) -> bool | None: ...
    @property
    def naics(self) -> str | None: ...
    @property
    def garment(self) -> bool | None: ...


# NAICS 313 textile mills, 314 textile products, 315 apparel, 316 leather: where garment work is.
GARMENT_NAICS_PREFIXES = ("313", "314", "315", "316")
# 315 apparel manufacturing (cut and sew, accessories) is garment work whatever else is said; the
# others hold mills and leather goods where it may or may not be.
APPAREL_NAICS_PREFIX = "315"


def is_manufacturing_naics(naics: str) -> bool:
    """NAICS sector 31-33 is Manufacturing (the State's manufacturer test uses the same range)."""
    return naics[:2] in ("31", "32", "33")


def makes_goods(inputs: IndustryAnswers) -> bool | None:
    """`manufacturer` if given, else what the NAICS code says, else unknown."""
    if inputs.manufacturer is not None:
        return inputs.manufacturer
    if inputs.naics is not None:
        return is_manufacturing_naics(inputs.naics)
    return None


def does_garment_work(inputs: IndustryAnswers) -> bool | None:
    """`garment` if given; apparel (NAICS 315) means yes; outside textiles/apparel no; else unknown."""
    if inputs.garment is not None:
        return inputs.garment
    naics = inputs.naics
    if naics is None:
        return None
    if len(naics) < 3:
        return None if naics == "31" else False
    if naics.startswith(APPAREL_NAICS_PREFIX):
        return True  # apparel manufacturing is garment work by definition (Lab. Code §2671)
    return None if naics.startswith(GARMENT_NAICS_PREFIXES) else False
