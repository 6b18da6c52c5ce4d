"""PostgreSQL: ``ledgerlink_take_slot`` can be told the time.

A tenth argument, ``p_now`` (Unix seconds), replaces the server's clock when it is given;
``NULL``, what the governor passes unless a test injects a clock, keeps the server's clock,
so every process still agrees on one time. With it the shared governor runs on a simulated
clock on PostgreSQL as on SQLite, and its limits are tested exactly instead of timed.
Otherwise the function is 0006's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = ("ledgerlink_take_slot(text, bigint, double precision, integer, integer, integer, "
        "double precision, text)")
_NEW = ("ledgerlink_take_slot(text, bigint, double precision, integer, integer, integer, "
        "double precision, text, double precision)")

FUNCTION = """
CREATE OR REPLACE FUNCTION ledgerlink_take_slot(
    p_key text, p_lock bigint, p_per double precision, p_budget integer, p_concurrent integer,
    p_daily integer, p_stale double precision, p_holder text,
    p_now double precision DEFAULT NULL,
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
    now_s := coalesce(p_now, extract(epoch from clock_timestamp()));
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

#: 0006's function: this one without ``p_now``
_OLD_FUNCTION = (FUNCTION.replace("    p_now double precision DEFAULT NULL,\n", "")
                 .replace("coalesce(p_now, extract(epoch from clock_timestamp()))",
                          "extract(epoch from clock_timestamp())"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # a new argument makes a new function: drop the old one so that a call is never ambiguous
        op.execute(f"DROP FUNCTION IF EXISTS {_OLD}")
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_NEW}")
        op.execute(_OLD_FUNCTION)
