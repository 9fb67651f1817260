-- The images customers upload through Jumio's API channel, one row per
-- credential part; created_at is wall-clock Unix nanoseconds.

CREATE TABLE parts (
	verification_id TEXT    NOT NULL REFERENCES verifications (id),
	credential_id   TEXT    NOT NULL,
	classifier      TEXT    NOT NULL,
	content_type    TEXT    NOT NULL,
	data            BLOB    NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (verification_id, credential_id, classifier)
) STRICT;
