"""Starting ``scenario.py`` in fresh processes (own devices, TF_CONFIG, signals) and reading their results."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

SCENARIO = pathlib.Path(__file__).with_name("scenario.py")
REPO = SCENARIO.parents[2]
TIMEOUT = 600  # seconds; a scenario takes 20-60 s on two idle cores, much longer on a loaded machine


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}  # a cluster only where a test asks for one
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def start(name, args, **env):
    """A running scenario; stdout and stderr merged, line-buffered text."""
    return subprocess.Popen([sys.executable, str(SCENARIO), name, json.dumps(args)], cwd=REPO,
                            env=environment(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)


def result(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line in the scenario's output:\n{output[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def finish(procs, timeout=TIMEOUT) -> list[str]:
    """Waits for every process and returns what each printed. When one fails or time runs out the others are
    killed: a worker left alone would wait in a collective forever."""
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs):
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
            break
        time.sleep(0.5)
    timed_out = any(p.poll() is None for p in procs) and time.monotonic() > deadline
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    outputs = [proc.communicate()[0] for proc in procs]
    if timed_out:
        printed = "\n---\n".join(output[-2000:] for output in outputs)
        raise AssertionError(f"scenario still running after {timeout} s; it printed:\n{printed}")
    return outputs


def run(name, args, timeout=TIMEOUT, **env) -> dict:
    proc = start(name, args, **env)
    output, = finish([proc], timeout)
    assert proc.returncode == 0, f"scenario {name} failed ({proc.returncode}):\n{output[-3000:]}"
    return result(output)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports
