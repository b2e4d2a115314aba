"""Participants' phones and pages as python-socketio clients of the real server,
recording what they receive."""

from __future__ import annotations

import threading
from collections import defaultdict

import socketio

#: Seconds to wait for something to arrive: generous, never a fixed sleep.
WAIT = 20
EVENTS = ("match", "seat", "cafe_state", "cafe_screen")


class Listener:
    """One Socket.IO connection with a participant's token (``reconnect``: as a
    browser does, it reconnects by itself when the server goes away)."""

    def __init__(self, base: str, token: str, *, transports=("websocket",),
                 reconnect: bool = False):
        self.base, self.token, self.transports = base, token, list(transports)
        self.received: dict[str, list] = defaultdict(list)
        self.connects = 0
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=reconnect, reconnection_delay=0.2,
                                      reconnection_delay_max=1, randomization_factor=0)
        for name in EVENTS:
            self.client.on(name, lambda data, name=name: self._got(name, data))
        self.client.on("connect", self._connected)

    def connect(self) -> Listener:
        self.client.connect(self.base, auth={"token": self.token},
                            transports=self.transports, wait_timeout=10)
        return self

    def _connected(self) -> None:
        with self.changed:
            self.connects += 1
            self.changed.notify_all()

    def _got(self, name: str, data) -> None:
        with self.changed:
            self.received[name].append(data)
            self.changed.notify_all()

    def of(self, name: str) -> list:
        with self.changed:
            return list(self.received[name])

    def wait_for(self, ready, what: str, timeout: float = WAIT) -> None:
        with self.changed:
            assert self.changed.wait_for(ready, timeout=timeout), f"timed out waiting for {what}"

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
        # A client reconnecting in the background stops too.
        self.client.reconnection = False


def wait_all(listeners, ready, what: str, timeout: float = WAIT) -> None:
    """Until ``ready(listener)`` holds for every listener."""
    for listener in listeners:
        listener.wait_for(lambda one=listener: ready(one), what, timeout)
