"""The simulated devices of the demo and the tests: the simulated dispenser and encoder
joined into one card path, and a full set of simulated devices."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from hardware.card_encoder.simulator import SimCard, SimEncoder
from hardware.dispenser.protocol import DispenserStatus
from hardware.dispenser.simulator import SimDispenser
from hardware.health import DeviceHealth
from hardware.payment.protocol import PaymentTerminal
from hardware.payment.simulator import SimulatedTerminal
from hardware.printer.simulator import SimPrinter
from kiosk.journeys.devices import Devices

CardFault = Literal["verify_mismatch", "removed", "reverts"] | None


class SimCardPath:
    """A ``CardDispenser`` over ``SimDispenser`` whose RF position is ``SimEncoder``'s field.

    A card fed from the stacker arrives blank in the encoder's field and leaves it when it
    is presented, captured or cleared by a reset, as on a real kiosk where the antenna sits
    at the dispenser's RF position. ``card_faults`` gives each fed card its fault, in order.
    """

    def __init__(
        self,
        dispenser: SimDispenser,
        encoder: SimEncoder,
        card_faults: Iterable[CardFault] = (),
    ) -> None:
        self.name = dispenser.name
        self.inner = dispenser
        self._encoder = encoder
        self._faults: deque[CardFault] = deque(card_faults)
        self._at_exit: SimCard | None = None  # the presented card's chip, out of the field
        self._offered: deque[SimCard] = deque()  # cards guests push into the exit slot
        self.pocket: dict[bytes, SimCard] = {}  # cards guests took, by UID
        self.reject_bin: list[SimCard] = []  # the chips of captured cards, as they dropped
        self.handed_out: list[SimCard] = []  # the chips guests took from the exit, in order

    def fault_next_cards(self, *faults: CardFault) -> None:
        self._faults.extend(faults)

    def open(self) -> None:
        self.inner.open()
        self._encoder.remove()  # the field is empty until a card is fed

    def close(self) -> None:
        self.inner.close()

    def reset(self) -> None:
        self.inner.reset()
        chip = self._encoder.remove() or self._at_exit  # a card in the channel: to the bin
        self._at_exit = None
        if chip is not None:
            self.reject_bin.append(chip)

    def status(self) -> DispenserStatus:
        return self.inner.status()

    def move_to_rf(self) -> None:
        fed = not self.inner.status().card_at_exit
        self.inner.move_to_rf()
        if not fed and self._at_exit is not None:  # a card pulled back keeps its chip
            self._encoder.insert(self._at_exit)
            self._at_exit = None
        elif fed or self._encoder.card is None:
            card = self._encoder.insert()
            fault = self._faults.popleft() if self._faults else None
            card.verify_mismatch = fault == "verify_mismatch"
            card.writes_left = 2 if fault == "removed" else None
            card.reverts = fault == "reverts"

    def present(self) -> None:
        self.inner.present()
        self._at_exit = self._encoder.remove()

    def capture(self) -> None:
        self.inner.capture()
        chip = self._encoder.remove() or self._at_exit
        self._at_exit = None
        if chip is not None:
            self.reject_bin.append(chip)

    def wait_taken(self, timeout: float) -> bool:
        taken = self.inner.wait_taken(timeout)
        if taken and self._at_exit is not None:  # in the guest's hand
            self.handed_out.append(self._at_exit)
            self.pocket[self._at_exit.uid] = self._at_exit
            self._at_exit = None
        return taken

    def pocket_card(self, uid: bytes, payload: bytes) -> SimCard:
        """A card a guest carries, holding ``payload`` as the kiosk writes a key."""
        card = SimCard(self._encoder.card_type, uid)
        held = self._encoder.remove()
        self._encoder.insert(card)
        try:
            self._encoder.write_key(payload)
        finally:
            self._encoder.remove()
            if held is not None:
                self._encoder.insert(held)
        self.pocket[uid] = card
        return card

    def guest_inserts(self, card: SimCard | bytes) -> SimCard:
        """A guest pushes a room card into the exit slot, for ``take_in``: ``card`` itself,
        or by UID the one they carry (``pocket``: taken here or made by ``pocket_card``),
        else a blank one of that UID."""
        if isinstance(card, bytes):
            card = self.pocket.pop(card, None) or SimCard(self._encoder.card_type, card)
        self._offered.append(card)
        self.inner.insert_from_front()
        return card

    def take_in(self, timeout: float) -> bool:
        if not self.inner.take_in(timeout):
            return False
        self._encoder.insert(self._offered.popleft())
        return True

    def health(self) -> DeviceHealth:
        return self.inner.health()


def guest_card(uid_hex: str, payload: bytes) -> SimCard:
    """A room card as a guest holds it: ``uid_hex``, keyed by a kiosk encoder, holding
    ``payload`` (a key written at check-in)."""
    writer = SimEncoder()
    card = writer.insert(SimCard(writer.card_type, bytes.fromhex(uid_hex)))
    if payload:
        writer.write_key(payload)
    writer.remove()
    return card


def simulated_devices(
    folder: Path,
    *,
    card_stock: int = 100,
    printer_paper_rows: int = 3000,
    terminal_delay_factor: float = 0.0,
    terminal_response_timeout_s: float = 90.0,
    device_delay_scale: float = 0.0,
) -> Devices:
    """Every device simulated, state under ``folder`` (terminal journal, receipt PNGs)."""
    encoder = SimEncoder()
    dispenser = SimCardPath(
        SimDispenser(stock=card_stock, delay_scale=device_delay_scale, poll_interval=0.01),
        encoder,
    )
    dispenser.open()
    printer = SimPrinter(folder / "receipts", paper_rows=printer_paper_rows)
    printer.open()
    terminal = SimulatedTerminal(
        folder / "payment-sim.sqlite",
        delay_factor=terminal_delay_factor,
        response_timeout_s=terminal_response_timeout_s,
    )
    return Devices(terminal=terminal, dispenser=dispenser, encoder=encoder, printer=printer)


def replay_kiosk_sales(
    terminal: PaymentTerminal, manifest: Mapping[str, Any], currency: str
) -> int:
    """The sales the demo property says this kiosk made on earlier days (the check-out refund
    case's: the refund goes back to that sale's card), made on the simulated terminal; a
    reference it knows is not charged again. Returns how many the manifest names."""
    sales = [g["kiosk_sale"] for g in manifest.get("in_house", []) if g.get("kiosk_sale")]
    for sale in sales:
        terminal.sale(sale["reference"], Decimal(sale["amount"]), currency)
    return len(sales)
