"""bench/cpu.py's readings: the CPU a process spent, and the processes behind a listening port."""
import os
import socket
import time

from bench.cpu import backends_of, cpu_seconds, service_processes


def test_the_cpu_a_process_spent_grows_with_its_work_and_a_process_gone_spent_none():
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass

    assert cpu_seconds(os.getpid()) - before >= 0.1
    assert cpu_seconds(2**22 + 1) == 0.0  # past Linux's largest pid


def test_the_processes_of_a_port_are_those_listening_on_it():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]

        assert service_processes(port) == {os.getpid()}
    assert service_processes(port) == set()
    assert backends_of({os.getpid()}, None) == set()  # SQLite: no server backends to count
