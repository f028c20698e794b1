"""2022 NAICS titles for the manufacturing subsectors (31-33), by 3-digit code.

From the Census Bureau's 2022 NAICS manual. Only manufacturing is listed: the pilot is for
manufacturers, and any other code is reported as "outside manufacturing".
"""

from __future__ import annotations

SUBSECTORS_2022 = {
    "311": "Food Manufacturing",
    "312": "Beverage and Tobacco Product Manufacturing",
    "313": "Textile Mills",
    "314": "Textile Product Mills",
    "315": "Apparel Manufacturing",
    "316": "Leather and Allied Product Manufacturing",
    "321": "Wood Product Manufacturing",
    "322": "Paper Manufacturing",
    "323": "Printing and Related Support Activities",
    "324": "Petroleum and Coal Products Manufacturing",
    "325": "Chemical Manufacturing",
    "326": "Plastics and Rubber Products Manufacturing",
    "327": "Nonmetallic Mineral Product Manufacturing",
    "331": "Primary Metal Manufacturing",
    "332": "Fabricated Metal Product Manufacturing",
    "333": "Machinery Manufacturing",
    "334": "Computer and Electronic Product Manufacturing",
    "335": "Electrical Equipment, Appliance, and Component Manufacturing",
    "336": "Transportation Equipment Manufacturing",
    "337": "Furniture and Related Product Manufacturing",
    "339": "Miscellaneous Manufacturing",
}
NOT_GIVEN = "none"
OUTSIDE = "other"


def sector_of(naics: str) -> str:
    """The 3-digit subsector a stored code belongs to; `none` when there is no code, `other`
    when it is not a manufacturing code."""
    code = naics.strip()[:3]
    if not code:
        return NOT_GIVEN
    return code if code in SUBSECTORS_2022 else OUTSIDE


def sector_title(sector: str) -> str:
    if sector == NOT_GIVEN:
        return "No NAICS code given"
    if sector == OUTSIDE:
        return "Outside manufacturing (or not a 2022 NAICS code)"
    return SUBSECTORS_2022[sector]
