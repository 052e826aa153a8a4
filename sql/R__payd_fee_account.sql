-- Which fee sub-account a movement's fee goes to: the one place of the
-- count of sub-accounts is the table fee_accounts itself, whose ids are
-- 0 to n - 1 (sql/001_schema.sql; a migration that adds sub-accounts adds
-- the next ids). The app passes any number >= 0 that differs from one
-- call to the next (ledger_fee_account, app/ledger.c: each process goes
-- round), so that no fee row is hot; this maps it to an id. Called once,
-- first, by every procedure that credits a fee (payd_transfer,
-- payd_transfer_many, payd_hold_end, payd_payout), which then writes the
-- fee entries on that id and credits it last (payd_fee_credit,
-- sql/R__payd_fee_credit.sql). MAX(id) is one step to the end of the
-- primary key, not a scan.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_fee_account(
    p_hint BIGINT)
    RETURNS INT
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the fee sub-account of a movement (R__payd_fee_account.sql)'
BEGIN
	RETURN p_hint MOD ((SELECT MAX(id) FROM fee_accounts) + 1);
END;
