-- Issue 19: the time rule of user entries moves from a trigger into the
-- routines that write entries (sql/R__payd_entry_at.sql, and
-- payd_payout_set for a batch's accounts at once). A trigger on entries
-- ran for every row of every movement, fee rows included: about a third
-- of a 1000-item batch's time under its row locks
-- (tests/bench/RESULTS.md). The rule itself is unchanged (docs/money.md,
-- Time in the ledger).
--
-- The routines of this release are applied right after the migrations,
-- in the same `payd migrate`; in between, a movement written by the
-- previous release's routines keeps the second its app took, which is
-- what the trigger would have given it unless that movement waited for a
-- row lock across a second in that interval.
DROP TRIGGER IF EXISTS payd_entries_time;
DELETE FROM schema_routines WHERE name = 'R__payd_entries_time.sql';

-- payd_payout_all, the batch's first fast path, was replaced by
-- payd_payout_set and kept one release for the version still running
-- during that upgrade (docs/operations.md, Upgrades). No running version
-- calls it any more; it wrote entries relying on the trigger.
DROP PROCEDURE IF EXISTS payd_payout_all;
DELETE FROM schema_routines WHERE name = 'R__payd_payout_all.sql';
