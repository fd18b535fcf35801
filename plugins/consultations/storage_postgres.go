package consultations

// postgresLockRow locks the rows a SELECT reads until the transaction ends, so that
// two nodes changing one consultation (a close and a publish of results, say) queue.
const postgresLockRow = " FOR UPDATE"
