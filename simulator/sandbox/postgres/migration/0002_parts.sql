-- The images customers upload through Jumio's API channel, one row per
-- credential part; created_at is wall-clock Unix nanoseconds.

CREATE TABLE parts (
	verification_id text   NOT NULL REFERENCES verifications (id),
	credential_id   text   NOT NULL,
	classifier      text   NOT NULL,
	content_type    text   NOT NULL,
	data            bytea  NOT NULL,
	created_at      bigint NOT NULL,
	PRIMARY KEY (verification_id, credential_id, classifier)
);
