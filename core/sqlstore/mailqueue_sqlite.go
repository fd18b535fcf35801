package sqlstore

// claimMailSQLite takes due rows for one worker. SQLite has one writer at a time (the
// transaction is immediate), so no row can be claimed twice; the lease in next_at
// keeps the next claim off rows being sent.
const claimMailSQLite = `UPDATE mail_queue SET next_at = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (SELECT id FROM mail_queue WHERE state = 'queued' AND next_at <= ? ORDER BY next_at LIMIT ?)
RETURNING ` + mailRowColumns
