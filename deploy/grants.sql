-- payd's database accounts and their rights: the one place they are
-- written. deploy/grants.sh applies this file (deploy/install.sh and
-- tests/lib/stack.sh call it), with @@DB@@ the database and @@APP@@ the
-- app's account ('user'@'host'); applying it again changes nothing.
--
-- Money moves only through the stored routines (sql/R__*.sql):
--   payd_owner  owns every routine, which runs with its rights (SQL
--               SECURITY DEFINER), and has the table rights the routines
--               need. It cannot log in: ACCOUNT LOCK, and no password
--               matches 'invalid'.
--   @@APP@@     the app: EXECUTE on the routines, and only the table
--               rights of its own statements (app/db.c). It cannot UPDATE a
--               balance or write or delete a ledger row.
--
-- How a new routine gets its rights: write it as
--     CREATE OR REPLACE DEFINER = payd_owner PROCEDURE name(...)
--         ...
--         SQL SECURITY DEFINER
-- (the same for a FUNCTION).
-- payd_owner's rights below cover every table
-- of the database, and the app's EXECUTE covers every routine. migrate
-- refuses to finish while a routine of the database has another definer
-- or SQL SECURITY INVOKER.
--
-- How a new table gets its rights: payd_owner has them already (its grant
-- is on @@DB@@.*). The app gets a line in the second part below only when
-- app/*.c itself runs a statement on the table, and only that statement's
-- right (SELECT for a read; INSERT with a column list when it inserts).
-- Never UPDATE or DELETE on a table that holds money or the ledger: that
-- is what a routine is for.

-- @@PART owner@@ (before the migrations: the routines name their definer)
CREATE USER IF NOT EXISTS payd_owner@'%'
    IDENTIFIED VIA mysql_native_password USING 'invalid' ACCOUNT LOCK;
ALTER USER payd_owner@'%'
    IDENTIFIED VIA mysql_native_password USING 'invalid' ACCOUNT LOCK;
GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE
    ON `@@DB@@`.* TO payd_owner@'%';

-- @@PART app@@ (after the migrations: a table grant needs the table)
-- The database has no trigger since sql/008_entries_time_in_routines.sql;
-- an older install's right to make one goes, here, once that migration
-- has dropped the trigger (a trigger runs with its definer's rights: the
-- revoke before it would fail the old version's inserts into entries).
REVOKE TRIGGER ON `@@DB@@`.* FROM payd_owner@'%';
GRANT EXECUTE ON `@@DB@@`.* TO @@APP@@;
-- POST /register; the sign-in and caller reads; POST /password and POST
-- /logout (a new hash, a new token generation). A new user's balance is
-- the column's default, 0: the app can neither insert nor update one.
GRANT SELECT, INSERT (username, password_hash, created_at),
    UPDATE (password_hash, token_gen, password_changed_at)
    ON `@@DB@@`.users TO @@APP@@;
-- GET /transactions, GET /transfers/{id} and payd audit.
GRANT SELECT ON `@@DB@@`.movements TO @@APP@@;
-- GET /holds and GET /holds/{id}, and payd audit (sql/004_holds.sql).
GRANT SELECT ON `@@DB@@`.holds TO @@APP@@;
GRANT SELECT ON `@@DB@@`.entries TO @@APP@@;
GRANT SELECT ON `@@DB@@`.fee_accounts TO @@APP@@;
-- payd admin (run with payd.conf's account): the record of what
-- operators did, written and read (app/admin.c; no money).
GRANT SELECT, INSERT ON `@@DB@@`.admin_actions TO @@APP@@;
-- Idempotency keys: claimed, answered and purged by the app (no money).
GRANT SELECT, INSERT, UPDATE, DELETE
    ON `@@DB@@`.idempotency_keys TO @@APP@@;
