"""Starting ``scenario.py`` in fresh processes (own devices, TF_CONFIG, signals) and reading their results."""

import json
import os
import pathlib
import socket
import subprocess
import sys

SCENARIO = pathlib.Path(__file__).with_name("scenario.py")
REPO = SCENARIO.parents[2]


def environment(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("TF_CONFIG", None) if "TF_CONFIG" not in extra else None
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


def run(name, args, timeout=240, **env) -> dict:
    proc = start(name, args, **env)
    output, _ = proc.communicate(timeout=timeout)
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
