"""Runs inside the sandbox (stdlib only): forwards 127.0.0.1:PORT to a unix socket bound in, then execs the command.

Usage: python3 -I -S forward.py PORT SOCKET [PORT SOCKET ...] -- COMMAND... — one listener per pair (the
egress proxy's socket, the model relay's), all ready before the command starts; they die with the
sandbox's pid namespace when the command ends.
"""

import os
import socket
import sys
import threading


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    return listener


def main() -> None:
    split = sys.argv.index("--")
    pairs, command = sys.argv[1:split], sys.argv[split + 1:]
    listeners = [(_listen(int(port)), path) for port, path in zip(pairs[::2], pairs[1::2], strict=True)]
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)  # the command's output pipe must close when the command ends
        for listener, path in listeners[1:]:
            threading.Thread(target=_serve, args=(listener, path), daemon=True).start()
        _serve(*listeners[0])
        os._exit(0)
    for listener, _ in listeners:
        listener.close()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
