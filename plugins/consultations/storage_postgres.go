package consultations

// postgresLockRow locks the rows a SELECT reads until the transaction ends, so that
// two nodes changing one consultation (a close and a publish of results, say) queue.
const postgresLockRow = " FOR UPDATE"

// postgresShareRow locks the rows a SELECT reads against change (a close) but not
// against other readers that share them (answers given at the same moment).
const postgresShareRow = " FOR SHARE"
