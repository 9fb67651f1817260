-- Verifications, the delivery outbox and its attempts.
-- Times are Unix nanoseconds (UTC). Sandbox-clock times: created_at,
-- updated_at and expires_at of verifications, next_attempt_at and
-- attempts.at; wall-clock times: leased_until and the deliveries'
-- created_at and updated_at.

CREATE TABLE verifications (
	id           TEXT    PRIMARY KEY,
	product      TEXT    NOT NULL,
	account_id   TEXT    NOT NULL DEFAULT '',
	external_ref TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL,
	state        BLOB    NOT NULL,                -- a JSON object
	callback_url TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	expires_at   INTEGER,                         -- NULL: nothing pending
	version      INTEGER NOT NULL
) STRICT;

CREATE INDEX verifications_account  ON verifications (product, account_id) WHERE account_id <> '';
CREATE INDEX verifications_external ON verifications (product, external_ref) WHERE external_ref <> '';
CREATE INDEX verifications_expiry   ON verifications (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX verifications_created  ON verifications (created_at, id);

CREATE TABLE deliveries (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	verification_id    TEXT    REFERENCES verifications (id),
	product            TEXT    NOT NULL,
	message            TEXT    NOT NULL,
	subject            TEXT    NOT NULL DEFAULT '',
	url                TEXT    NOT NULL,
	header             BLOB    NOT NULL,          -- JSON: {"Name": ["value", ...]}
	body               BLOB    NOT NULL,
	source             TEXT    NOT NULL DEFAULT '', -- source address, '' for any
	policy_name        TEXT    NOT NULL,
	connect_timeout_ns INTEGER NOT NULL,
	answer_timeout_ns  INTEGER NOT NULL,
	delays_ns          TEXT    NOT NULL,          -- JSON: [ns, ...]
	state              TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	cycle              INTEGER NOT NULL,
	attempts           INTEGER NOT NULL,          -- made in this cycle
	next_attempt_at    INTEGER,                   -- NULL unless pending
	lease              INTEGER NOT NULL,          -- changes with every claim and resend
	leased_until       INTEGER,                   -- NULL: not claimed
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
) STRICT;

-- The due queue (Claim, NextDue): state first, so that the planner
-- walks the pending deliveries in due order and stops at the limit.
CREATE INDEX deliveries_due          ON deliveries (state, next_attempt_at, id);
CREATE INDEX deliveries_verification ON deliveries (verification_id, id);

CREATE TABLE attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
	cycle       INTEGER NOT NULL,
	number      INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL,                 -- 0: no answer
	latency_ns  INTEGER NOT NULL,
	error       TEXT    NOT NULL DEFAULT '',
	response    BLOB    NOT NULL                  -- the start of the answer body
) STRICT;

CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
