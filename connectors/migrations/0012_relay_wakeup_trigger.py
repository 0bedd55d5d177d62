"""PostgreSQL only: the relay's wake-ups (connectors/relay/wakeups.py) sent by the database itself, in
the same statement that queues or answers a request, delivered when its transaction commits. SQLite
needs none (one process; wake-ups stay in memory).

Those two statements also commit without waiting for the disk (synchronous_commit off for their own
transaction only). Safe for money: the lease in between is a normal, durable commit, and WAL is
written in order, so a lease on disk means its request is on disk; an answer lost in a crash leaves
the request leased, and the agent's journal answers its re-delivery (a write is never run twice)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mlc_relay_wakeup() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.state = 'queued' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify('mlc_relay', 't' || NEW.tenant_id);
    ELSIF TG_OP = 'UPDATE' AND NEW.state = 'answered' AND OLD.state <> 'answered' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify('mlc_relay', 'r' || NEW.id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS mlc_relay_wakeup ON connectors_relayedrequest;
CREATE TRIGGER mlc_relay_wakeup AFTER INSERT OR UPDATE OF state ON connectors_relayedrequest
    FOR EACH ROW EXECUTE FUNCTION mlc_relay_wakeup();
"""
DROP = """
DROP TRIGGER IF EXISTS mlc_relay_wakeup ON connectors_relayedrequest;
DROP FUNCTION IF EXISTS mlc_relay_wakeup();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0011_tenant_send_without_hold_check")]
    operations = [migrations.RunPython(create, drop)]
