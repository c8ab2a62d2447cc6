"""A webhook receiver that drips its answer: a status line and headers announcing `length` bytes,
then one byte every `every` seconds (with `head_too`, the head as well). It notes when each request
began and when the sender hung up, so a test sees how long an attempt held a connection and
whether two attempts to one path were in flight at once. Only 127.0.0.1 is listened on."""
import selectors
import socket
import threading
import time


class Dripped:
    def __init__(self, path, webhook_id, began):
        self.path, self.webhook_id, self.began = path, webhook_id, began
        self.ended = None  # when the sender closed the connection (or the drip ran out)


class DripReceiver:
    def __init__(self, status=200, length=32, every=1.0, head_too=False):
        self.status, self.length, self.every, self.head_too = status, length, every, head_too
        self.requests = []
        self._lock = threading.Lock()
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            conn.settimeout(30)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            webhook_id = next((line.split(":", 1)[1].strip() for line in head
                               if line.lower().startswith("webhook-id:")), None)
            dripped = Dripped(head[0].split(" ")[1], webhook_id, time.monotonic())
            with self._lock:
                self.requests.append(dripped)
            response = (f"HTTP/1.1 {self.status} X\r\nContent-Length: {self.length}\r\nContent-Type: text/plain\r\n\r\n"
                        ).encode() + b"x" * self.length
            split = 0 if self.head_too else response.index(b"\r\n\r\n") + 4
            try:
                conn.sendall(response[:split])
                for i in range(split, len(response)):
                    conn.sendall(response[i:i + 1])
                    if self._hung_up(conn, self.every):
                        break
                else:
                    self._hung_up(conn, 30)  # the whole answer is out: until the sender lets go
            except OSError:
                pass
            dripped.ended = time.monotonic()

    def _hung_up(self, conn, wait):
        """Whether the sender closed the connection within `wait` seconds (what it sends is ignored)."""
        deadline = time.monotonic() + wait
        # A selector, not select(): in a long test session the sockets' numbers pass select()'s 1024.
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(conn, selectors.EVENT_READ)
                while (left := deadline - time.monotonic()) > 0 and not self._stopping.is_set():
                    if selector.select(min(left, 0.2)) and not conn.recv(65536):
                        return True
            except OSError:  # closed meanwhile (the receiver stopping): hung up
                return True
        return self._stopping.is_set()

    def of(self, path):
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def overlaps(self, path):
        """Pairs of requests to `path` that were in flight at once."""
        requests = sorted(self.of(path), key=lambda request: request.began)
        return [(a.webhook_id, b.webhook_id) for a, b in zip(requests, requests[1:])
                if a.ended is None or b.began < a.ended]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        self._thread.join(5)
        self._server.close()
