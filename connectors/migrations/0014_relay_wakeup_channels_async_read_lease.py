"""PostgreSQL only, the relay's trigger (migration 0012) again, with two changes.

Wake-ups by channel (connectors/relay/wakeups.py): new work on `mlc_relay_work`, which processes
holding agent polls listen to; an answer on `mlc_relay_a<first 8 hex digits of the request ID>`, the
channel of the one process that queued it — not every process for every answer.

A lease of reads commits without waiting for the disk, like queueing and answering. A lost read
lease only offers the read again, which is harmless; a lease that includes a write stays a durable
commit, so a write an agent may run is never offered to another
agent after a crash (the trigger marks the transaction durable; rows' order does not matter)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mlc_relay_wakeup() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.state = 'queued' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify('mlc_relay_work', 't' || NEW.tenant_id);
    ELSIF TG_OP = 'UPDATE' AND NEW.state = 'answered' AND OLD.state <> 'answered' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_notify('mlc_relay_a' || left(replace(NEW.id::text, '-', ''), 8), 'r' || NEW.id);
    ELSIF TG_OP = 'UPDATE' AND NEW.state = 'leased' THEN
        IF NEW.method <> 'GET' THEN
            PERFORM set_config('mlc.relay_durable', 'on', true);
            PERFORM set_config('synchronous_commit', 'on', true);
        ELSIF coalesce(current_setting('mlc.relay_durable', true), '') <> 'on' THEN
            PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
PREVIOUS = """
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
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0013_tenant_account_segments")]
    operations = [migrations.RunPython(create, drop)]
