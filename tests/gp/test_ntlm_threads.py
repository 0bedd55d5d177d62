"""One GP client used by several threads at once (the bill flow's workers read GP payments while
aligning amounts due): NTLM's handshake must stay on each thread's own connections, or GP answers 401
and the clerk reads "the user name or password is wrong" about a password that is right."""

from __future__ import annotations

import threading
from collections import Counter

from connectors.gp.client import GPClient
from connectors.gp.http import GPError, GPHttp

THREADS = 8
CALLS = 40


def test_threads_sharing_a_client_never_see_a_false_password_error(gp_sandbox):
    # Dropped connections make the client open new ones mid-run, each with its own three-leg handshake:
    # that is when threads sharing one connection pool used to take each other's connection.
    gp_sandbox.set_faults(["reset"], rate=0.3)
    http = GPHttp(
        gp_sandbox.url,
        gp_sandbox.tenant,
        gp_sandbox.company,
        gp_sandbox.account,
        gp_sandbox.password,
        timeout=5,
        max_tries=3,
        backoff_seconds=0,
        sleep=lambda _s: None,
    )
    client = GPClient(http)
    failures: Counter[str] = Counter()
    answered = Counter[str]()

    def work() -> None:
        for _ in range(CALLS):
            try:
                client.get_vendor("CONTOSO0001")
                answered["ok"] += 1
            except GPError as exc:
                failures[exc.code or "?"] += 1

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gp_sandbox.clear_faults()
        http.close()

    assert failures["auth"] == 0, f"GP refused the right password {failures['auth']} times: {dict(failures)}"
    # The only failures left are the dropped connections themselves, after their retries.
    assert set(failures) <= {"reset"}
    assert answered["ok"] + sum(failures.values()) == THREADS * CALLS
