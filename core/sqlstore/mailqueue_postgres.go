package sqlstore

// claimMailPostgres takes due rows for one worker: SKIP LOCKED lets two nodes claim at
// the same moment without waiting for or taking each other's rows, and the lease in
// next_at keeps them apart once the claim committed.
const claimMailPostgres = `UPDATE mail_queue SET next_at = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (SELECT id FROM mail_queue WHERE state = 'queued' AND next_at <= ? ORDER BY next_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING ` + mailRowColumns
