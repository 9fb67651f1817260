-- Verifications, the delivery outbox and its attempts, and the sandbox
-- clock's high-water mark: the same model as the SQLite store's.
-- Times are Unix nanoseconds (UTC) in bigint, exactly as written.
-- Sandbox-clock times: created_at, updated_at and expires_at of
-- verifications, next_attempt_at, attempts.at and clock.high_water;
-- wall-clock times: leased_until and the deliveries' created_at and
-- updated_at.

CREATE TABLE verifications (
	id           text    PRIMARY KEY,
	product      text    NOT NULL,
	account_id   text    NOT NULL DEFAULT '',
	external_ref text    NOT NULL DEFAULT '',
	status       text    NOT NULL,
	state        jsonb   NOT NULL CHECK (jsonb_typeof(state) = 'object'),
	callback_url text    NOT NULL DEFAULT '',
	created_at   bigint  NOT NULL,
	updated_at   bigint  NOT NULL,
	expires_at   bigint,                          -- NULL: nothing pending
	version      bigint  NOT NULL
);

CREATE INDEX verifications_account  ON verifications (product, account_id) WHERE account_id <> '';
CREATE INDEX verifications_external ON verifications (product, external_ref) WHERE external_ref <> '';
CREATE INDEX verifications_expiry   ON verifications (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX verifications_created  ON verifications (created_at, id);

CREATE TABLE deliveries (
	id                 bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	verification_id    text    REFERENCES verifications (id),
	product            text    NOT NULL,
	message            text    NOT NULL,
	subject            text    NOT NULL DEFAULT '',
	url                text    NOT NULL,
	header             jsonb   NOT NULL,          -- {"Name": ["value", ...]}
	body               bytea   NOT NULL,
	source             text    NOT NULL DEFAULT '', -- source address, '' for any
	policy_name        text    NOT NULL,
	connect_timeout_ns bigint  NOT NULL,
	answer_timeout_ns  bigint  NOT NULL,
	delays_ns          bigint[] NOT NULL,
	state              text    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	cycle              integer NOT NULL,
	attempts           integer NOT NULL,          -- made in this cycle
	next_attempt_at    bigint,                    -- NULL unless pending
	lease              bigint  NOT NULL,          -- changes with every claim and resend
	leased_until       bigint,                    -- NULL: not claimed
	leased_by          text    NOT NULL DEFAULT '', -- the claiming replica
	created_at         bigint  NOT NULL,
	updated_at         bigint  NOT NULL,
	CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
);

-- The due queue (Claim, NextDue): only pending deliveries, in due order.
CREATE INDEX deliveries_due          ON deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_verification ON deliveries (verification_id, id);
CREATE INDEX deliveries_state        ON deliveries (state, id);

CREATE TABLE attempts (
	id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id bigint  NOT NULL REFERENCES deliveries (id),
	cycle       integer NOT NULL,
	number      integer NOT NULL,
	at          bigint  NOT NULL,
	status      integer NOT NULL,                 -- 0: no answer
	latency_ns  bigint  NOT NULL,
	error       text    NOT NULL DEFAULT '',
	response    bytea   NOT NULL,                 -- the start of the answer body
	replica     text    NOT NULL DEFAULT ''       -- the replica that made it
);

CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- The sandbox clock's high-water mark (SyncClock): one row.
CREATE TABLE clock (
	id         integer PRIMARY KEY CHECK (id = 1),
	high_water bigint  NOT NULL
);
INSERT INTO clock (id, high_water) VALUES (1, 0);
