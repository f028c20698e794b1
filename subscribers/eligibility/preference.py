"""The LSBE bid preference (LACC 2.204.060-070): how much, and would the LSBE come out on top?

Price solicitations (2.204.060 B, C, E): the preference is 15% of the lowest responsible bid
from another bidder, at most $150,000. The LSBE's evaluated bid is its bid minus the
preference; it is the low bidder when that is below the lowest bid. The preference only ranks
bids: the contract is awarded at the LSBE's actual bid.

Revenue solicitations (D, F), where a higher offer to the County is better: `lowest` is read
as the best (highest) revenue offer from another proposer, the preference is 15% of it, at most
$750,000, and the LSBE's evaluated offer is its offer PLUS the preference; it wins when that
is above the best other offer. The County still receives the LSBE's actual offer.

Either way an exact tie is not a win: the solicitation's tie-break rules decide.

Also: no request, no preference (G); a statute with a lower rate sets the rate (H); all County
preferences together stay within 15% of the lowest bid / highest proposal (I), the other
programs' share given as `other_rate`; and the 2.204.070 exclusions give none. A non-agreement
purchase is excluded only under $5,000: its value is `amount`, or `lowest` when no amount is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from subscribers.eligibility.formatting import CENT, money, percent
from subscribers.eligibility.inputs import ContractType, PreferenceInputs, PurchaseKind, ScreenerInputError
from subscribers.eligibility.parameters import (
    COMBINED_RATE_CAP,
    NON_AGREEMENT_THRESHOLD,
    PREFERENCE_CAP_PRICE,
    PREFERENCE_CAP_REVENUE,
    PREFERENCE_RATE,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PreferenceResult:
    """The preference worked out, with the reason and every figure behind it."""

    applies: bool
    contract_type: ContractType
    rate: Decimal  # the LSBE rate used, a fraction (0.15); 0 when no preference
    preference: Decimal  # LSBE preference in dollars
    other_preference: Decimal  # other County preferences counted (other_rate x lowest)
    cap: Decimal  # dollar cap on the LSBE preference
    lowest: Decimal | None
    bid: Decimal | None
    evaluated_bid: Decimal | None
    lsbe_wins: bool | None  # None when there are no bids to compare
    tie: bool
    reason: str
    citation: str
    notes: tuple[str, ...] = ()

    @property
    def award_amount(self) -> Decimal | None:
        """The preference never changes the price: the award is at the LSBE's actual bid."""
        return self.bid


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _exclusions(inputs: PreferenceInputs) -> list[tuple[str, str]]:
    """Every reason this purchase gets no preference, as (reason, citation), most basic first."""
    found = []
    if inputs.federal_conflict:
        found.append(("Federal funding terms conflict with the preference.", "LACC 2.204.070 E"))
    if inputs.purchase is PurchaseKind.GPO:
        found.append(
            ("No preference on national or group purchasing organization contracts.", "LACC 2.204.070 A")
        )
    elif inputs.purchase is PurchaseKind.PETTY_CASH:
        found.append(("No preference on petty cash (revolving fund) purchases.", "LACC 2.204.070 B"))
    elif inputs.purchase is PurchaseKind.PURCHASE_CARD:
        found.append(("No preference on purchase card purchases.", "LACC 2.204.070 C"))
    elif inputs.purchase is PurchaseKind.NON_AGREEMENT:
        value = _purchase_value(inputs)
        if value is not None and value < NON_AGREEMENT_THRESHOLD:
            found.append(
                (
                    f"No preference on a non-agreement purchase under {money(NON_AGREEMENT_THRESHOLD)} "
                    f"(this one is {money(value)}).",
                    "LACC 2.204.070 D",
                )
            )
    if inputs.statute_rate == ZERO:
        found.append(("A statute bars the preference on this contract.", "LACC 2.204.060 H; 2.204.070 F"))
    if inputs.requested is False:
        found.append(
            ("The LSBE did not request the preference in its response, so it gets none.", "LACC 2.204.060 G")
        )
    return found


def _purchase_value(inputs: PreferenceInputs) -> Decimal | None:
    return inputs.amount if inputs.amount is not None else inputs.lowest


def _compare(contract_type: ContractType, evaluated: Decimal, lowest: Decimal) -> tuple[bool, bool]:
    """(lsbe wins, tie). Lower wins on price; higher wins on revenue."""
    if evaluated == lowest:
        return False, True
    if contract_type is ContractType.PRICE:
        return evaluated < lowest, False
    return evaluated > lowest, False


def calculate_preference(inputs: PreferenceInputs) -> PreferenceResult:
    """Apply 2.204.060-070 to one solicitation. Raises ScreenerInputError if bids are needed
    but missing (only possible when the inputs were built by hand)."""
    revenue = inputs.type is ContractType.REVENUE
    cap = PREFERENCE_CAP_REVENUE if revenue else PREFERENCE_CAP_PRICE
    notes: list[str] = []
    if inputs.purchase is PurchaseKind.NON_AGREEMENT:
        value = _purchase_value(inputs)
        if value is not None and value >= NON_AGREEMENT_THRESHOLD:
            notes.append(
                f"A non-agreement purchase of {money(NON_AGREEMENT_THRESHOLD)} or more ({money(value)}) "
                "is not excluded. [LACC 2.204.070 D]"
            )
    exclusions = _exclusions(inputs)
    if exclusions:
        return _excluded(inputs, cap, exclusions, notes)

    lowest, bid = inputs.lowest, inputs.bid
    if lowest is None or bid is None:  # parse_preference_inputs catches this; code may not
        raise ScreenerInputError(["the preference needs lowest= and bid= (amounts)"])
    citation = "LACC 2.204.060 D, F" if revenue else "LACC 2.204.060 B, C, E"
    if inputs.requested is None:
        notes.append("Assumes the LSBE requested the preference in its response. [LACC 2.204.060 G]")
    rate = PREFERENCE_RATE
    if inputs.statute_rate is not None:
        if inputs.statute_rate < PREFERENCE_RATE:
            rate = inputs.statute_rate
            notes.append(f"A statute limits the preference to {percent(rate)}. [LACC 2.204.060 H]")
        else:
            notes.append(f"The statute's {percent(inputs.statute_rate)} is not lower, so 15% applies.")
    other_rate = inputs.other_rate or ZERO
    if other_rate:
        room = max(ZERO, COMBINED_RATE_CAP - other_rate)
        if room < rate:
            rate = room
            if rate:  # none left at all is the reason itself, not a note
                notes.append(
                    f"With {percent(other_rate)} from other County preferences, the LSBE preference is "
                    f"limited to {percent(rate)} so the total stays within 15%. [LACC 2.204.060 I]"
                )
        notes.append(
            f"Other County preferences are counted as {percent(other_rate)} of the "
            f"{'best other offer' if revenue else 'lowest bid'}; their own chapters set their limits."
        )
    if rate == ZERO:
        return _excluded(
            inputs,
            cap,
            [("Other County preferences already use the whole 15% combined limit.", "LACC 2.204.060 I")],
            notes,
            other_rate=other_rate,
        )

    uncapped = _cents(rate * lowest)
    preference = min(uncapped, cap)
    if uncapped > cap:
        notes.append(f"{percent(rate)} would be {money(uncapped)}; the preference is capped at {money(cap)}.")
    other = _cents(other_rate * lowest)
    reduction = preference + other
    # Price: a bid smaller than its preference counts as $0, not a negative amount.
    evaluated = bid + reduction if revenue else max(ZERO, bid - reduction)
    if not revenue and reduction > bid:
        notes.append(
            f"The reductions ({money(reduction)}) are more than the LSBE's bid, so its evaluated bid "
            "counts as $0."
        )
    wins, tie = _compare(inputs.type, evaluated, lowest)
    already = (bid > lowest) if revenue else (bid < lowest)
    reason = _outcome_reason(inputs.type, evaluated, lowest, bid, wins=wins, tie=tie, already=already)
    return PreferenceResult(
        applies=True,
        contract_type=inputs.type,
        rate=rate,
        preference=preference,
        other_preference=other,
        cap=cap,
        lowest=lowest,
        bid=bid,
        evaluated_bid=evaluated,
        lsbe_wins=wins,
        tie=tie,
        reason=reason,
        citation=citation,
        notes=tuple(notes),
    )


def _outcome_reason(
    contract_type: ContractType,
    evaluated: Decimal,
    lowest: Decimal,
    bid: Decimal,
    *,
    wins: bool,
    tie: bool,
    already: bool,
) -> str:
    if contract_type is ContractType.PRICE:
        mine, theirs, better, worse = "evaluated bid", "the lowest other bid", "below", "above"
        award = f"The contract is still awarded at its actual bid, {money(bid)}."
        winner = "the low bidder"
    else:
        mine, theirs, better, worse = "evaluated offer", "the best other offer", "above", "below"
        award = f"The County still receives its actual offer, {money(bid)}."
        winner = "ahead"
    if tie:
        return (
            f"The LSBE's {mine}, {money(evaluated)}, ties with {theirs}, {money(lowest)}. "
            "A tie is not a win: the solicitation's tie-break rules apply."
        )
    if wins:
        lead = "Even without the preference the LSBE is ahead. " if already else ""
        return (
            f"{lead}The LSBE's {mine}, {money(evaluated)}, is {better} {theirs}, {money(lowest)}: "
            f"the LSBE would be {winner}. {award}"
        )
    return (
        f"Even with the preference the LSBE's {mine}, {money(evaluated)}, is {worse} {theirs}, "
        f"{money(lowest)}: the other bidder stays ahead."
    )


def _without_lsbe_preference(
    contract_type: ContractType,
    evaluated: Decimal,
    lowest: Decimal,
    bid: Decimal,
    other: Decimal,
    *,
    wins: bool,
    tie: bool,
) -> str:
    """Where the LSBE stands with no LSBE preference: on its own bid, or on the other
    preferences' evaluated bid (named, with the figure, so the bids shown above add up)."""
    revenue = contract_type is ContractType.REVENUE
    if not other:
        if tie:
            return "Without it the bids tie: the solicitation's tie-break rules apply."
        return "The LSBE is ahead without it." if wins else "Without it the other bidder stays ahead."
    mine = "evaluated offer" if revenue else "evaluated bid"
    theirs = "the best other offer" if revenue else "the lowest other bid"
    sign = "+" if revenue else "−"
    figures = (
        f"With the other County preferences ({money(bid)} {sign} {money(other)}) the LSBE's {mine} "
        f"is {money(evaluated)}"
    )
    if tie:
        return f"{figures}, a tie with {theirs}, {money(lowest)}: the solicitation's tie-break rules apply."
    if wins:
        award = (
            "The County still receives its actual offer"
            if revenue
            else "The contract is still awarded at its actual bid"
        )
        better = "above" if revenue else "below"
        return (
            f"{figures}, {better} {theirs}, {money(lowest)}: the LSBE is ahead thanks to the other "
            f"preferences. {award}, {money(bid)}."
        )
    worse = "below" if revenue else "above"
    return f"{figures}, still {worse} {theirs}, {money(lowest)}: the other bidder stays ahead."


def _excluded(
    inputs: PreferenceInputs,
    cap: Decimal,
    exclusions: list[tuple[str, str]],
    notes: list[str],
    *,
    other_rate: Decimal = ZERO,
) -> PreferenceResult:
    (reason, citation), *more = exclusions
    notes = [*notes, *(f"Also: {text} [{cite}]" for text, cite in more)]
    lowest, bid = inputs.lowest, inputs.bid
    evaluated = wins = None
    tie = False
    other = ZERO
    if lowest is not None and bid is not None:
        other = _cents(other_rate * lowest)
        revenue = inputs.type is ContractType.REVENUE
        evaluated = bid + other if revenue else max(ZERO, bid - other)
        wins, tie = _compare(inputs.type, evaluated, lowest)
        reason += " " + _without_lsbe_preference(
            inputs.type, evaluated, lowest, bid, other, wins=wins, tie=tie
        )
    return PreferenceResult(
        applies=False,
        contract_type=inputs.type,
        rate=ZERO,
        preference=ZERO,
        other_preference=other,
        cap=cap,
        lowest=lowest,
        bid=bid,
        evaluated_bid=evaluated,
        lsbe_wins=wins,
        tie=tie,
        reason=reason,
        citation=citation,
        notes=tuple(notes),
    )
