-- The accounts, the double-entry ledger and the idempotency keys.
-- Money is BIGINT minor units (cents); no column ever holds a float.

CREATE TABLE users (
	id BIGINT NOT NULL AUTO_INCREMENT,
	-- The general_ci collation makes the unique index case-insensitive:
	-- "Alice" and "alice" cannot both exist (API.md POST /register).
	username VARCHAR(32) CHARACTER SET utf8mb4
	    COLLATE utf8mb4_general_ci NOT NULL,
	password_hash VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin
	    NOT NULL,
	balance BIGINT NOT NULL DEFAULT 0,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY users_username (username),
	CONSTRAINT users_balance_range
	    CHECK (balance >= 0 AND balance <= 1000000000000000)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;

-- The service's fee account, spread over sub-accounts so that no single
-- row is locked by every transfer; its balance is SUM(balance).
CREATE TABLE fee_accounts (
	id INT NOT NULL,
	balance BIGINT NOT NULL DEFAULT 0,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	CONSTRAINT fee_accounts_balance_nonneg CHECK (balance >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

INSERT INTO fee_accounts (id) VALUES (0), (1), (2), (3), (4), (5), (6), (7),
    (8), (9), (10), (11), (12), (13), (14), (15);

-- One row per money movement: a deposit (top-up) or a transfer.
CREATE TABLE movements (
	id BIGINT NOT NULL AUTO_INCREMENT,
	kind ENUM('deposit', 'transfer') NOT NULL,
	from_user BIGINT NULL,
	to_user BIGINT NOT NULL,
	amount BIGINT NOT NULL,
	fee BIGINT NOT NULL DEFAULT 0,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	CONSTRAINT movements_amount_pos CHECK (amount > 0),
	CONSTRAINT movements_fee_nonneg CHECK (fee >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The ledger: every movement writes entries whose deltas sum to zero.
-- A deposit: +amount to the user, -amount to the external account 0.
-- A transfer: -(amount + fee) to the sender, +amount to the recipient,
-- +fee to one fee sub-account. The primary key serves the history query.
CREATE TABLE entries (
	account_kind ENUM('user', 'fee', 'external') NOT NULL,
	account_id BIGINT NOT NULL,
	movement_id BIGINT NOT NULL,
	type ENUM('deposit', 'transfer_out', 'transfer_in', 'fee', 'funding')
	    NOT NULL,
	delta BIGINT NOT NULL,
	balance_after BIGINT NULL,
	counterparty_id BIGINT NULL,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (account_kind, account_id, movement_id),
	KEY entries_movement (movement_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Idempotency keys, scoped per user, kept at least 24 hours. The row is
-- inserted first in the movement's transaction, so a concurrent retry with
-- the same key waits on its lock and then replays the stored response.
CREATE TABLE idempotency_keys (
	user_id BIGINT NOT NULL,
	idem_key VARBINARY(255) NOT NULL,
	request_hash BINARY(32) NOT NULL,
	status SMALLINT NULL,
	response VARBINARY(1024) NULL,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (user_id, idem_key),
	KEY idempotency_keys_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
