-- Documents customers upload for a verification (Sumsub ID document
-- images): their metadata and bytes. created_at is a sandbox-clock time,
-- Unix nanoseconds (UTC).

CREATE TABLE documents (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	verification_id TEXT    NOT NULL REFERENCES verifications (id),
	metadata        BLOB    NOT NULL,             -- a JSON object
	file_name       TEXT    NOT NULL DEFAULT '',
	content_type    TEXT    NOT NULL DEFAULT '',
	content         BLOB    NOT NULL,
	inactive        INTEGER NOT NULL DEFAULT 0 CHECK (inactive IN (0, 1)),
	created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX documents_verification ON documents (verification_id, id);
