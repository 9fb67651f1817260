-- Sumsub knows one applicant per externalUserId: a create or an update
-- that would give a second Sumsub applicant the same one fails on this
-- index (the store answers ETAKEN), even when two replicas race.
-- (A database that already holds such a pair, which only that race could
-- make, fails to migrate here; delete one of the two applicants first.)

CREATE UNIQUE INDEX verifications_sumsub_external ON verifications (external_ref)
	WHERE product = 'sumsub' AND external_ref <> '';
