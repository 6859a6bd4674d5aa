"""The PC/SC card encoder: an ACR122U-class contactless reader through pcscd and pyscard.

Each operation connects to the card in the field, tells its type from the ATR (PC/SC
part 3), runs a ``CardSession`` and disconnects, so a card swapped between operations is
never confused with the last one. Every call into pyscard runs in a worker thread bounded
by ``timeout``: a reader or driver that stops answering gives ``EncoderTimeout``, never a
hang. Presence events come from pyscard's ``CardMonitor``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from smartcard import scard
from smartcard.CardMonitoring import CardMonitor, CardMonitoringThread, CardObserver
from smartcard.Exceptions import NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers as list_readers

from hardware.card_encoder.config import DEFAULT_TRANSPORT_KEY, SectorKeys
from hardware.card_encoder.layout import CardLayout
from hardware.card_encoder.protocol import (
    CardCommError,
    CardEncoderError,
    CardInfo,
    CardRemoved,
    EncoderTimeout,
    NoCard,
    NoReader,
    PresenceEvent,
)
from hardware.card_encoder.session import CardSession, SessionEncoder
from hardware.health import DeviceHealth, HealthLevel

log = logging.getLogger(__name__)

T = TypeVar("T")

# Reader names that say "contactless" (ACS, Identiv, HID, generic CCID PICC interfaces).
CONTACTLESS_HINTS = ("picc", "contactless", "acr122", "nfc", "cl ")
# The card left, or stopped answering, in the middle of an exchange.
_CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_E_NOT_TRANSACTED,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_W_UNRESPONSIVE_CARD,
}
_READER_GONE = {
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_NO_READERS_AVAILABLE,
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
}
CARD_POLL_S = 0.1
# pyscard raises two unrelated exception families.
PCSC_ERRORS = (SmartcardException, BaseSCardException)


def pick_reader(names: list[str], wanted: str) -> str:
    """The reader called ``wanted`` (exactly, else as part of the name); with ``wanted``
    empty, the first whose name says contactless, else the first reader."""
    if wanted:
        matches = [n for n in names if n == wanted] or [n for n in names if wanted in n]
    else:
        matches = [n for n in names if any(h in n.lower() for h in CONTACTLESS_HINTS)] or names
    if not matches:
        known = ", ".join(names) or "none"
        raise NoReader(f"no reader {wanted or 'at all'} (readers: {known})")
    return matches[0]


def _hresult(exc: SmartcardException | BaseSCardException) -> int:
    return exc.hresult & 0xFFFFFFFF


class PcscEncoder(SessionEncoder):
    """A ``CardEncoder`` on a PC/SC reader."""

    def __init__(
        self,
        reader: str = "",
        card_layout: CardLayout | None = None,
        keys: SectorKeys | None = None,
        timeout: float = 2.0,
        name: str = "encoder",
    ) -> None:
        self.name = name
        self._wanted = reader
        self._layout = card_layout or CardLayout()
        self._keys = keys or SectorKeys(transport=bytes.fromhex(DEFAULT_TRANSPORT_KEY))
        self._timeout = timeout
        self._stops: list[Callable[[], None]] = []

    # -- bounded pyscard calls -----------------------------------------------------------

    def _bounded(self, call: Callable[[], T], what: str) -> T:
        """Run ``call`` in a worker thread; ``EncoderTimeout`` if it takes over ``timeout``.

        A daemon thread, not an executor: a driver stuck for good must not keep the process
        from exiting.
        """
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = call()
            except BaseException as exc:  # handed over to the caller's thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name=f"pcsc {what}", daemon=True).start()
        if not done.wait(self._timeout):
            raise EncoderTimeout(f"the reader did not answer ({what}) within {self._timeout} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def reader_name(self) -> str:
        """The name of the reader this encoder uses now; ``NoReader`` if it is not there."""
        try:
            names = [str(r) for r in self._bounded(list_readers, "list readers")]
        except PCSC_ERRORS as exc:
            raise NoReader(f"PC/SC service not available: {exc}") from None
        return pick_reader(names, self._wanted)

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        log.info("card encoder on reader %r", self.reader_name())

    def close(self) -> None:
        for stop in list(self._stops):
            stop()

    # -- card operations -----------------------------------------------------------------

    def _connect(self, reader: str) -> Any:
        from smartcard.pcsc.PCSCReader import PCSCReader

        try:
            connection = self._bounded(PCSCReader(reader).createConnection, "context")
        except PCSC_ERRORS as exc:
            raise NoReader(f"PC/SC service not available: {exc}") from None
        try:
            self._bounded(connection.connect, "connect")
        except NoCardException:
            self._release(connection, connected=False)
            raise NoCard(f"no card on reader {reader}") from None
        except PCSC_ERRORS as exc:
            self._release(connection, connected=False)
            if _hresult(exc) in _CARD_GONE:  # e.g. unpowered: arriving or just leaving
                raise NoCard(f"no card ready on reader {reader}") from None
            if _hresult(exc) in _READER_GONE:
                raise NoReader(f"reader {reader} is gone") from None
            raise CardCommError(f"cannot connect to the card: {exc}") from None
        except EncoderTimeout:
            self._release(connection, connected=False)
            raise
        return connection

    def _transmit(self, connection: Any, command: bytes) -> bytes:
        try:
            data, sw1, sw2 = self._bounded(lambda: connection.transmit(list(command)), "transmit")
        except PCSC_ERRORS as exc:
            if _hresult(exc) in _READER_GONE:
                raise NoReader("the reader went away during the operation") from None
            # An empty reply (pyscard: "no valid response", hresult 0) is vpcd's and some
            # readers' way of saying the card went silent mid-command.
            if _hresult(exc) in _CARD_GONE or _hresult(exc) == scard.SCARD_S_SUCCESS:
                raise CardRemoved("the card left the field (or stopped answering)") from None
            raise CardCommError(f"exchange with the card failed: {exc}") from None
        return bytes(data) + bytes([sw1, sw2])

    def _reactivate(self, connection: Any) -> None:
        try:
            self._bounded(lambda: connection.reconnect(disposition=scard.SCARD_RESET_CARD), "reset")
        except PCSC_ERRORS:
            raise CardRemoved("the card left the field while being reset") from None

    def _with_card(self, work: Callable[[CardSession, CardInfo], T]) -> T:
        connection = self._connect(self.reader_name())
        try:
            try:
                atr = bytes(self._bounded(connection.getATR, "ATR"))
            except PCSC_ERRORS:
                raise CardRemoved("the card left the field") from None
            session = CardSession(
                lambda command: self._transmit(connection, command),
                lambda: self._reactivate(connection),
                self._layout,
                self._keys,
            )
            return work(session, session.identify(atr))
        finally:
            self._release(connection)

    def _release(self, connection: Any, *, connected: bool = True) -> None:
        """Disconnect, then free the PC/SC context, in one bounded worker. After a timeout
        the worker carries on in the background, in order, once the stuck call returns."""

        def release() -> None:
            # The card or reader may be gone already: then there is nothing left to undo.
            if connected:
                with contextlib.suppress(*PCSC_ERRORS):
                    connection.disconnect()
            with contextlib.suppress(*PCSC_ERRORS):
                connection.release()

        with contextlib.suppress(EncoderTimeout):
            self._bounded(release, "release")

    def wait_for_card(self, timeout: float) -> CardInfo:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._with_card(lambda _session, card: card)
            except (NoCard, CardRemoved):
                if time.monotonic() >= deadline:
                    raise NoCard(f"no card came within {timeout} s") from None
                time.sleep(CARD_POLL_S)

    def _check_before_write(self) -> None:
        self._keys.check_before_write()  # before even connecting: not one APDU for a bad trailer

    # -- presence and health -------------------------------------------------------------

    def watch(self, callback: Callable[[PresenceEvent], None]) -> Callable[[], None]:
        reader = self.reader_name()
        observer = _PresenceObserver(reader, callback)
        monitor = CardMonitor()
        monitor.addObserver(observer)

        def stop() -> None:
            if stop not in self._stops:
                return
            self._stops.remove(stop)
            if monitor.countObservers() == 1:
                _wake_monitor_thread()
            monitor.deleteObserver(observer)

        self._stops.append(stop)
        return stop

    def health(self) -> DeviceHealth:
        try:
            reader = self.reader_name()
        except CardEncoderError as exc:
            return DeviceHealth(self.name, HealthLevel.FAULT, str(exc))
        return DeviceHealth(self.name, HealthLevel.OK, f"reader {reader}", {"reader": reader})


def _wake_monitor_thread() -> None:
    """Stop pyscard's monitoring thread now instead of at its next 60 s wait timeout.

    ``CardMonitor.deleteObserver`` joins the thread when the last observer leaves, and the
    thread sits in ``SCardGetStatusChange``; setting its stop flag and cancelling its
    context lets that join return at once.
    """
    thread = CardMonitoringThread.instance
    request = getattr(thread, "cardrequest", None)
    context = getattr(getattr(request, "pcsccardrequest", None), "hcontext", None)
    if thread is None or context is None:
        return
    thread.stop()
    scard.SCardCancel(context)


class _PresenceObserver(CardObserver):
    def __init__(self, reader: str, callback: Callable[[PresenceEvent], None]) -> None:
        super().__init__()
        self._reader = reader
        self._callback = callback

    def update(self, observable: object, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        for cards, present in ((removed, False), (added, True)):
            for card in cards:
                if str(card.reader) == self._reader:
                    self._callback(PresenceEvent(self._reader, present))
