"""`mlc-agent` / `python -m connectors.agent_client`: run the GP agent in the foreground (as a service:
see the README's "GP behind a firewall"). Every option may come from the environment instead, which
keeps the token and the GP password out of the process list."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any

from . import VERSION
from .worker import Agent, AgentConfig

OPTIONS = [  # (flag, environment variable, help)
    (
        "--connector-url",
        "MLC_AGENT_CONNECTOR_URL",
        "The connector's https address, e.g. https://connector.example.com",
    ),
    ("--token", "MLC_AGENT_TOKEN", "The agent token a Connector admin made (shown once)"),
    ("--gp-url", "MLC_AGENT_GP_URL", "The local GP SBA base URL, e.g. https://gp.corp.local:8443"),
    (
        "--gp-ws-url",
        "MLC_AGENT_GP_WS_URL",
        "The local GP Web Services endpoint, when a connection uses that interface, e.g. "
        "http://gp.corp.local:48620/DynamicsGPWebServices/DynamicsGPService.asmx",
    ),
    ("--gp-account", "MLC_AGENT_GP_ACCOUNT", "The Windows account GP knows, DOMAIN\\user"),
    ("--gp-password", "MLC_AGENT_GP_PASSWORD", "Its password (kept on this machine only)"),
    ("--journal", "MLC_AGENT_JOURNAL", "The journal file of writes run (default mlc-agent-journal.sqlite3)"),
    ("--gp-auth", "MLC_AGENT_GP_AUTH", "ntlm (default) or basic"),
    ("--gp-ca-bundle", "MLC_AGENT_GP_CA_BUNDLE", "A PEM file to trust for GP's certificate"),
    ("--workers", "MLC_AGENT_WORKERS", "GP requests run at once (default 4)"),
]
REQUIRED = ("connector_url", "token", "gp_url", "gp_account", "gp_password")


def parse(argv: list[str]) -> AgentConfig:
    parser = argparse.ArgumentParser(prog="mlc-agent", description=f"ml-connector GP agent {VERSION}")
    for flag, env, text in OPTIONS:
        parser.add_argument(flag, default=os.environ.get(env), help=f"{text} (env {env})")
    args = vars(parser.parse_args(argv))
    missing = [f"--{k.replace('_', '-')}" for k in REQUIRED if not args.get(k)]
    if missing:
        parser.error("missing " + ", ".join(missing) + " (or their MLC_AGENT_* environment variables)")
    fields: dict[str, Any] = {k: args[k] for k in REQUIRED}
    if args.get("journal"):
        fields["journal_path"] = args["journal"]
    if args.get("gp_ws_url"):
        fields["gp_ws_url"] = args["gp_ws_url"]
    if args.get("gp_auth"):
        fields["gp_auth"] = args["gp_auth"]
    if args.get("gp_ca_bundle"):
        fields["gp_ca_bundle"] = args["gp_ca_bundle"]
    if args.get("workers"):
        fields["workers"] = int(args["workers"])
    return AgentConfig(**fields)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    agent = Agent(parse(sys.argv[1:] if argv is None else argv))

    def stop(signum: int, frame: Any) -> None:
        agent.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
