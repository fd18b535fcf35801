package sqlstore

import (
	"database/sql"
	"sync"
)

// The pools a plugin opened for its store, so that its health report can say how
// busy they are (the host exports them as metrics).
var pools struct {
	mu  sync.Mutex
	dbs []*sql.DB
}

// Track counts db among the plugin's store pools.
func Track(db *sql.DB) {
	pools.mu.Lock()
	defer pools.mu.Unlock()
	pools.dbs = append(pools.dbs, db)
}

// PoolStats sums the statistics of the tracked pools; false when none was opened.
func PoolStats() (sql.DBStats, bool) {
	pools.mu.Lock()
	defer pools.mu.Unlock()
	var sum sql.DBStats
	for _, db := range pools.dbs {
		s := db.Stats()
		sum.MaxOpenConnections += s.MaxOpenConnections
		sum.OpenConnections += s.OpenConnections
		sum.InUse += s.InUse
		sum.Idle += s.Idle
		sum.WaitCount += s.WaitCount
		sum.WaitDuration += s.WaitDuration
		sum.MaxIdleClosed += s.MaxIdleClosed
		sum.MaxIdleTimeClosed += s.MaxIdleTimeClosed
		sum.MaxLifetimeClosed += s.MaxLifetimeClosed
	}
	return sum, len(pools.dbs) > 0
}
