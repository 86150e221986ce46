"""The shop's loyalty program (DESIGN §5): a TOML file, validated with line-precise errors, and
the pure rules that turn a member's state and an event into postings and effects.

    program = load_program(text)            # raises ProgramError (issues with line, key, FR/EN, fix)
    outcome = program.apply(state, Purchase(1240), now)
"""

from hub.program.errors import ProgramError, ProgramIssue
from hub.program.loader import demo_program_text, load_program
from hub.program.model import (
    ACCOUNTS,
    BALANCES,
    TIER_BASES,
    TOTALS,
    Effect,
    Enrol,
    Lot,
    MemberState,
    Outcome,
    Posting,
    Purchase,
    Redeem,
    Refusal,
    Tap,
    Text,
    TierStatus,
    VoucherGrant,
)
from hub.program.rewards import Reward
from hub.program.rules import Program
from hub.program.tiers import IMPLICIT_TIER

__all__ = [
    "ACCOUNTS",
    "BALANCES",
    "IMPLICIT_TIER",
    "TIER_BASES",
    "TOTALS",
    "Effect",
    "Enrol",
    "Lot",
    "MemberState",
    "Outcome",
    "Posting",
    "Program",
    "ProgramError",
    "ProgramIssue",
    "Purchase",
    "Redeem",
    "Refusal",
    "Reward",
    "Tap",
    "Text",
    "TierStatus",
    "VoucherGrant",
    "demo_program_text",
    "load_program",
]
