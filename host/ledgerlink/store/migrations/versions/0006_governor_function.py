"""PostgreSQL: take a shared governor slot in one round trip.

``ledgerlink_take_slot`` locks the tenant's key (a transaction-scoped advisory lock), reads
the server's clock, counts the tenant's window, requests in progress and day, and records
the start when there is room: one statement, so the lock is held for a fraction of a
millisecond and never across a round trip of a busy client. Each statement of a VOLATILE
function sees what other transactions committed before it, so the counts are fresh once
the lock is held. SQLite does the same in Python under its write lock.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION ledgerlink_take_slot(
    p_key text, p_lock bigint, p_per double precision, p_budget integer, p_concurrent integer,
    p_daily integer, p_stale double precision, p_holder text,
    OUT slot_id integer, OUT reason text, OUT wait double precision)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now_s double precision;
    paused double precision;
    in_window integer;
    oldest double precision;
    running integer;
    midnight double precision;
    today integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    now_s := extract(epoch from clock_timestamp());
    SELECT until INTO paused FROM governor_pauses WHERE key = p_key;
    IF paused IS NOT NULL AND paused > now_s THEN
        reason := 'paused'; wait := paused - now_s; RETURN;
    END IF;
    IF p_budget IS NOT NULL THEN
        SELECT count(*) INTO in_window FROM governor_starts
            WHERE key = p_key AND started_at > now_s - p_per;
        IF in_window >= p_budget THEN
            SELECT started_at INTO oldest FROM governor_starts
                WHERE key = p_key AND started_at > now_s - p_per
                ORDER BY started_at OFFSET in_window - p_budget LIMIT 1;
            reason := 'window'; wait := greatest(0.001, oldest + p_per - now_s); RETURN;
        END IF;
    END IF;
    IF p_concurrent IS NOT NULL THEN
        SELECT count(*) INTO running FROM governor_starts
            WHERE key = p_key AND finished_at IS NULL AND started_at > now_s - p_stale;
        IF running >= p_concurrent THEN
            reason := 'concurrent'; wait := 0.02; RETURN;
        END IF;
    END IF;
    IF p_daily IS NOT NULL THEN
        midnight := extract(epoch from date_trunc('day', to_timestamp(now_s) AT TIME ZONE 'UTC')
                            AT TIME ZONE 'UTC');
        SELECT count(*) INTO today FROM governor_starts WHERE key = p_key AND started_at >= midnight;
        IF today >= p_daily THEN
            reason := 'daily'; wait := midnight + 86400 - now_s; RETURN;
        END IF;
    END IF;
    INSERT INTO governor_starts (key, started_at, holder) VALUES (p_key, now_s, p_holder)
        RETURNING id INTO slot_id;
    reason := ''; wait := 0;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledgerlink_take_slot(text, bigint, double precision, integer, "
                   "integer, integer, double precision, text)")
