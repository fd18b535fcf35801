package backup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/sqlstore"
)

// benchStore is a SQLite store opened as the core opens its own (WAL, busy timeout,
// immediate transactions), holding rows rows of about 200 bytes.
func benchStore(b *testing.B, rows int) (dataDir string, db *sql.DB) {
	b.Helper()
	dataDir = b.TempDir()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dataDir, CoreName)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 200)
	tx, _ := db.Begin()
	for i := range rows {
		if _, err := tx.Exec(`INSERT INTO notes (id, body) VALUES (?, ?)`, i, body); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return dataDir, db
}

// BenchmarkCreate measures one backup of a core store of 100 000 rows (about 24 MB).
func BenchmarkCreate(b *testing.B) {
	dataDir, _ := benchStore(b, 100_000)
	out := b.TempDir()
	info, _ := os.Stat(filepath.Join(dataDir, CoreName))
	b.SetBytes(info.Size())
	b.ResetTimer()
	for i := range b.N {
		if _, err := Create(context.Background(), filepath.Join(out, fmt.Sprint(i)), Options{DataDir: dataDir}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite measures one small write transaction on a store of 100 000 rows, alone
// and while backups of that store run back to back: "no downtime" means the second is
// not blocked, only slowed by sharing the disk and the CPU.
func BenchmarkWrite(b *testing.B) {
	for _, during := range []bool{false, true} {
		name := map[bool]string{false: "idle", true: "during_backup"}[during]
		b.Run(name, func(b *testing.B) {
			dataDir, db := benchStore(b, 100_000)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			backups := 0
			if during {
				out := b.TempDir()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						dir := filepath.Join(out, fmt.Sprint(i))
						if _, err := Create(context.Background(), dir, Options{DataDir: dataDir}); err != nil {
							b.Error(err)
							return
						}
						os.RemoveAll(dir)
						backups++
					}
				}()
			}
			var slowest time.Duration
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := db.Exec(`INSERT INTO notes (body) VALUES (?)`, fmt.Sprint("write ", i)); err != nil {
					b.Fatal(err)
				}
				slowest = max(slowest, time.Since(start))
			}
			b.StopTimer()
			// A write that waited for a whole backup would show here as ~0.5 s.
			b.ReportMetric(float64(slowest.Milliseconds()), "max-ms")
			close(stop)
			wg.Wait()
			if during {
				b.ReportMetric(float64(backups), "backups")
			}
		})
	}
}
