-- Documents customers upload for a verification (Sumsub ID document
-- images): their metadata and bytes. created_at is a sandbox-clock time,
-- Unix nanoseconds (UTC).

CREATE TABLE documents (
	id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	verification_id text    NOT NULL REFERENCES verifications (id),
	metadata        jsonb   NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
	file_name       text    NOT NULL DEFAULT '',
	content_type    text    NOT NULL DEFAULT '',
	content         bytea   NOT NULL,
	inactive        boolean NOT NULL DEFAULT false,
	created_at      bigint  NOT NULL
);

CREATE INDEX documents_verification ON documents (verification_id, id);
