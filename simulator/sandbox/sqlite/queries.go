package sqlite

// writeQueries are the statements that write transactions run.
var writeQueries []string

// writeQuery registers a statement that write transactions run.
func writeQuery(q string) string {
	writeQueries = append(writeQueries, q)
	return q
}

// The statements write transactions run, prepared on the writing
// connection when the database opens (see DB.prepareWrites).
var (
	qInsertDelivery = writeQuery(`INSERT INTO deliveries (
			verification_id, product, message, subject, url, header, body, source,
			policy_name, connect_timeout_ns, answer_timeout_ns, delays_ns,
			state, cycle, attempts, next_attempt_at, lease, leased_until, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, 0, ?, 0, NULL, ?, ?)`)
	qVerificationExists = writeQuery(`SELECT 1 FROM verifications WHERE id = ?`)
	qClaim              = writeQuery(`UPDATE deliveries SET lease = lease + 1, leased_until = ?, leased_by = ?
			WHERE id IN (
				SELECT id FROM deliveries
				WHERE state = 'pending' AND next_attempt_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING ` + deliveryColumns)
	qRecord = writeQuery(`UPDATE deliveries
			SET attempts = ?, state = ?, next_attempt_at = ?, leased_until = NULL, leased_by = '', updated_at = ?
			WHERE id = ? AND lease = ? AND cycle = ? AND state = 'pending'`)
	qDeliveryExists = writeQuery(`SELECT 1 FROM deliveries WHERE id = ?`)
	qInsertAttempt  = writeQuery(`INSERT INTO attempts (` + attemptColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qResend         = writeQuery(`UPDATE deliveries
			SET state = 'pending', cycle = cycle + 1, attempts = 0, next_attempt_at = ?,
				lease = lease + 1, leased_until = NULL, leased_by = '', updated_at = ?
			WHERE id = ?`)
	qInsertVerification = writeQuery(`INSERT INTO verifications (` + verificationColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (id) DO NOTHING`)
	qUpdateVerification = writeQuery(`UPDATE verifications SET
				product = ?, account_id = ?, external_ref = ?, status = ?, state = ?, callback_url = ?,
				updated_at = ?, expires_at = ?, version = version + 1
			WHERE id = ? AND version = ?`)
	qVerificationVersion = writeQuery(`SELECT version FROM verifications WHERE id = ?`)
	qSyncClock           = writeQuery(`UPDATE clock SET high_water = max(high_water, ?) WHERE id = 1 RETURNING high_water`)
)
