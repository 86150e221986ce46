"""One module per screen or group of screens; `all_parts()` gives a part for every `Screen`."""

from __future__ import annotations

from kiosk.ui.chrome import ScreenPart
from kiosk.ui.screens.attract import AttractPart
from kiosk.ui.screens.consents import ConsentsPart
from kiosk.ui.screens.details import DetailsPart
from kiosk.ui.screens.enrol_offer import EnrolOfferPart
from kiosk.ui.screens.message import MessagePart, WaitingPart
from kiosk.ui.screens.rewards import ConfirmPart, RewardsPart
from kiosk.ui.screens.staff import StaffMenuPart, StaffResultPart, StaffTapPart
from kiosk.ui.screens.staff_keypads import StaffAmountPart, StaffPinPart
from kiosk.ui.screens.voucher import VoucherPart
from kiosk.ui.screens.welcome import WelcomePart


def all_parts() -> list[ScreenPart]:
    return [
        AttractPart(),
        WaitingPart(),
        WelcomePart(),
        EnrolOfferPart(),
        ConsentsPart(),
        DetailsPart(),
        RewardsPart(),
        ConfirmPart(),
        VoucherPart(),
        MessagePart(),
        StaffPinPart(),
        StaffMenuPart(),
        StaffAmountPart(),
        StaffTapPart(),
        StaffResultPart(),
    ]
