"""Remote management of a kiosk fleet over MQTT (docs/fleet.md): the agent inside each
kiosk (``agent``, wired to the kiosk by ``kiosk``), the messages (``schemas``), command
signing (``signing``), the operator's client (``operator``) and a simulated fleet
(``simulate``). Nothing here is imported unless ``[remote] brokers`` names a broker or an
operator runs ``kiosk fleet``."""
