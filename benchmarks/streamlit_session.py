"""A Streamlit browser session without a browser, for load benchmarks.

Speaks the same websocket protocol as Streamlit's frontend: connect to `/_stcore/stream`
(subprotocol `streamlit`), send a `BackMsg.rerun_script`, read `ForwardMsg`s. The server
runs the app script for this session exactly as for a browser tab, so a benchmark can load
the HTTP routes while the dashboard does real work in the same process.
"""

from __future__ import annotations

import threading
from types import TracebackType

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class StreamlitSession:
    """An open session that asks for a script run every `rerun_every_s` seconds."""

    def __init__(self, base_url: str, rerun_every_s: float = 2.0, query_string: str = ""):
        self.url = base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.rerun_every_s = rerun_every_s
        self.query_string = query_string
        self.messages = 0
        self.script_runs_finished = 0
        self._stop = threading.Event()
        self._socket: ClientConnection | None = None
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> StreamlitSession:
        self._socket = connect(self.url, subprotocols=["streamlit"], max_size=None)
        for target in (self._read, self._rerun_periodically):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._socket is not None:
            self._socket.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _rerun_periodically(self) -> None:
        while not self._stop.is_set():
            message = BackMsg()
            message.rerun_script.query_string = self.query_string
            try:
                self._socket.send(message.SerializeToString())
            except ConnectionClosed:
                return
            self._stop.wait(self.rerun_every_s)

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(timeout=1.0)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            message = ForwardMsg()
            message.ParseFromString(data)
            self.messages += 1
            if message.WhichOneof("type") == "script_finished":
                self.script_runs_finished += 1
