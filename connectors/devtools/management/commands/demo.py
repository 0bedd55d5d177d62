"""The demo: both sandboxes, a tenant wired to them, the task cluster and the admin; or `--once`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from connectors.devtools import demo
from connectors.devtools.sandboxes import add_sandbox_arguments, describe, start_both
from connectors.subscriptions import subscribe
from connectors.sync.runner import run_gp_to_bill
from sandbox.gp_ws.server import start_gp_ws_sandbox


class Command(BaseCommand):
    help = (
        "Run the demo: GP and BILL sandboxes, a tenant wired to them, qcluster (both queues) and the admin. "
        "--once: set up, approve the suggested mappings, sync both ways once, print a JSON summary."
    )

    def add_arguments(self, parser: Any) -> None:
        add_sandbox_arguments(parser)
        parser.add_argument(
            "--once", action="store_true", help="Run every flow once, print the summary, exit."
        )
        parser.add_argument("--port", type=int, default=8000, help="Admin port (interactive demo).")
        parser.add_argument(
            "--gp-interface",
            choices=("sba", "soap"),
            default="sba",
            help="How the connector reaches GP (--once): SBA, or GP Web Services (SOAP), "
            "served for the same company by a Web Services sandbox.",
        )
        parser.add_argument(
            "--gp-via-agent",
            action="store_true",
            help="With --once: reach GP only through a GP agent (as behind a firewall).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["gp_via_agent"] and not options["once"]:
            raise CommandError(
                "--gp-via-agent runs with --once only (the interactive demo reaches GP directly)."
            )
        call_command(
            "migrate", interactive=False, verbosity=0
        )  # a fresh database works as well as an old one
        if options["once"]:
            options["gp_port"] = options["bill_port"] = 0  # free ports: never clash with a running demo
        options["allow_http_webhooks"] = True  # the demo's admin is plain http on 127.0.0.1
        # The sandboxes answer plain http on loopback; the clients check addresses when they are built.
        settings.CONNECTION_ALLOW_HTTP, settings.BILL_EXTRA_HOSTS = True, ["127.0.0.1", "localhost"]
        gp, bill = start_both(options)
        try:
            if options["once"]:
                gp_ws = None
                if options["gp_interface"] == "soap":
                    gp_ws = start_gp_ws_sandbox(share=gp)
                try:
                    result = demo.run_once(
                        gp, bill, self.stdout.write, gp_ws=gp_ws, via_agent=options["gp_via_agent"]
                    )
                finally:
                    if gp_ws is not None:
                        gp_ws.stop()
                self.stdout.write(json.dumps(result, sort_keys=True))
                if not result["agree"]:
                    raise CommandError("GP and BILL disagree (see the JSON line above).")
                return
            self._interactive(gp, bill, options)
        finally:
            gp.stop()
            bill.stop()

    def _interactive(self, gp: Any, bill: Any, options: dict[str, Any]) -> None:
        url = f"http://127.0.0.1:{options['port']}"
        mail_dir = settings.BASE_DIR / "var" / "demo-mail"
        # Links in e-mails are absolute, and e-mails go to files, not over the login lines below.
        demo_env = {
            "SITE_URL": url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
        }
        settings.SITE_URL, settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = (
            url,
            demo_env["EMAIL_BACKEND"],
            str(mail_dir),
        )
        tenant = demo.wire_tenant(gp, bill)
        users = demo.demo_users(tenant)
        for line in describe(gp, bill, options):
            self.stdout.write(line)
        run_gp_to_bill(tenant, full=True)
        self.stdout.write(
            "Approving strong suggestions (a match scoring ≥ 0.8, or 'create in BILL' where nothing in "
            "BILL looks like the GP record); the rest wait for you in Mappings:"
        )
        counts = demo.approve_suggestions(tenant, self.stdout.write, min_score=Decimal("0.8"))
        self.stdout.write(demo.approvals_sentence(counts))
        subscribe(tenant, f"{url}/webhooks/bill/{tenant.slug}/")
        # The sandboxes answer plain http on loopback: the admin must accept their addresses if edited.
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gpbill_site.settings",
            "CONNECTION_ALLOW_HTTP": "True",
            "BILL_EXTRA_HOSTS": "127.0.0.1,localhost",
            **demo_env,
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            subprocess.Popen([*manage, "qcluster"], env=env),
            # The long queue: the admin's jobs (initial load, sync now, preview…) run there.
            subprocess.Popen([*manage, "qcluster"], env={**env, "Q_CLUSTER_NAME": "long"}),
            subprocess.Popen([*manage, "runserver", "--noreload", f"127.0.0.1:{options['port']}"], env=env),
        ]
        self.stdout.write(f"\nAdmin: {url}/admin/")
        self.stdout.write(f"E-mails (the needs-attention digest) are written as files to {mail_dir}/")
        for name, password in users.items():
            self.stdout.write(f"  {name} / {password}")
        self.stdout.write(
            f"Tenant {tenant.name!r} syncs every {tenant.poll_interval_minutes} minute(s); "
            "BILL webhooks go to the admin. Press Ctrl-C to stop."
        )

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt  # SIGTERM too: never leave the cluster or the server orphaned

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
