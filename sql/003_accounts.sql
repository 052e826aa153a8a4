-- Account security and operator commands (issue 20): token revocation,
-- frozen accounts, reversals, and the record of what operators did.

-- token_gen: the generation of the user's tokens. Every token carries the
-- generation it was issued under (claim "gen", app/token.c); the read that
-- checks the token's user on every request compares it with this column,
-- so POST /logout and POST /password, which add one, refuse every older
-- token at once, on every app instance (API.md POST /logout).
-- frozen_at, frozen_reason: set by `payd admin freeze`; while frozen_at is
-- not NULL nothing moves or is reserved out of the account
-- (sql/R__payd_debit.sql).
ALTER TABLE users
	ADD COLUMN token_gen BIGINT NOT NULL DEFAULT 0 AFTER password_hash,
	ADD COLUMN password_changed_at DATETIME NULL AFTER token_gen,
	ADD COLUMN frozen_at DATETIME NULL AFTER balance,
	ADD COLUMN frozen_reason VARCHAR(255) CHARACTER SET utf8mb4 NULL
	    AFTER frozen_at,
	ADD CONSTRAINT users_token_gen_nonneg CHECK (token_gen >= 0);

-- A reversal undoes a transfer (`payd admin reverse`): transfer_id links it
-- to the transfer; the transfer's reversed_by names the reversal, and is
-- set at most once (the reversal sets it only while it is NULL, under the
-- transfer row's lock). A reversal moves only what was not refunded, which
-- may be nothing but the fee: its amount may be 0.
ALTER TABLE movements
	MODIFY kind ENUM('deposit', 'transfer', 'reversal') NOT NULL,
	ADD COLUMN transfer_id BIGINT NULL AFTER fee,
	ADD COLUMN reversed_by BIGINT NULL AFTER transfer_id,
	ADD KEY movements_transfer (transfer_id),
	DROP CONSTRAINT movements_amount_pos,
	ADD CONSTRAINT movements_amount_pos
	    CHECK (amount > 0 OR (kind = 'reversal' AND amount = 0));

-- A reversal's three entries: the recipient gives back (reversal_out), the
-- sender is paid back with the fee (reversal_in), and the fee sub-account
-- that took the fee gives it back (fee_reversal, a negative delta).
ALTER TABLE entries
	MODIFY type ENUM('deposit', 'transfer_out', 'transfer_in', 'fee',
	    'funding', 'reversal_out', 'reversal_in', 'fee_reversal') NOT NULL;

-- What operators did with `payd admin` (docs/operations.md): who (the OS
-- user, or --operator), when, what, on what, why, and how it ended.
CREATE TABLE admin_actions (
	id BIGINT NOT NULL AUTO_INCREMENT,
	operator VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
	action ENUM('show', 'freeze', 'unfreeze', 'reverse', 'log') NOT NULL,
	target VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
	reason VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
	outcome VARCHAR(64) CHARACTER SET ascii NOT NULL,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	KEY admin_actions_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
