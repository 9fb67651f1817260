package sandboxapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/postgres"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// Options configure an Instance: the server's Config (without Store,
// Clock, Wake and Metrics, which the Instance makes) and the parts below.
type Options struct {
	Config
	// DB is the database: a SQLite file, sqlite.Memory, or a PostgreSQL
	// URL (postgres://...), which several replicas may share.
	DB string
	// Replica names this process among the replicas on one database (its
	// claims, its attempts, its metrics); host-pid when empty.
	Replica string
	// TimeScale multiplies the sandbox's waits (retry delays, token
	// lifetimes, session timeouts): 0.001 runs an hour in 3.6 s. 1 when
	// 0.
	TimeScale float64
	// Workers bounds the callback attempts in flight (the Outbox's).
	Workers int
	// Lease is how long a replica's claim on a delivery holds (the
	// Outbox's; sandbox.DefaultLease when 0): on a shared database, the
	// callbacks a dead replica was sending are sent again by another
	// after it.
	Lease time.Duration
	// ExpiryInterval is how often (wall clock) expired tokens and
	// sessions are looked for; 100 ms when 0.
	ExpiryInterval time.Duration
	// PollInterval is the Outbox's idle poll (its default when 0).
	PollInterval time.Duration
	// ClockSyncInterval is how often (wall clock) a replica on a shared
	// database records its sandbox clock and catches up with the others'
	// high-water mark; 100 ms when 0.
	ClockSyncInterval time.Duration
}

// Database is a Store an Instance opens and closes.
type Database interface {
	sandbox.Store
	// PendingCount returns how many deliveries are pending.
	PendingCount(ctx context.Context) (int, error)
	Close() error
}

// Instance is a running sandbox: the database, the sandbox clock, the
// outbox that delivers callbacks, the expiry loop and the HTTP server.
type Instance struct {
	Server  *Server
	DB      Database
	Outbox  *sandbox.Outbox
	Clock   *sandbox.FastClock
	Metrics *Metrics
	// Replica is this process's name among the replicas.
	Replica string
	// Shared reports whether the database may be shared with other
	// replicas (PostgreSQL).
	Shared bool

	stop chan struct{}
	wg   sync.WaitGroup
	log  *slog.Logger
}

// DefaultReplica is a replica's name when none is given: host-pid.
func DefaultReplica() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "kycsim"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// OpenDatabase opens the database a --db value names: PostgreSQL for a
// postgres:// URL (shared: several replicas may use it), else a SQLite
// file or sqlite.Memory (one process's).
func OpenDatabase(ctx context.Context, dsn string) (db Database, shared bool, err error) {
	if postgres.IsURL(dsn) {
		pg := postgres.NewDB(dsn)
		if err := pg.Open(ctx); err != nil {
			return nil, false, err
		}
		return pg, true, nil
	}
	lite := sqlite.NewDB(dsn)
	if err := lite.Open(ctx); err != nil {
		return nil, false, err
	}
	return lite, false, nil
}

// Open opens the database (the sandbox clock resumes at the latest time
// it holds), starts delivering what is pending and returns the running
// sandbox. On a SQLite file, callbacks in flight when the last process
// died are retried at once; on a shared database, when their claims'
// leases run out (another replica may still be sending them).
func Open(ctx context.Context, opt Options) (*Instance, error) {
	if opt.TimeScale == 0 {
		opt.TimeScale = 1
	}
	if opt.TimeScale < 0 {
		return nil, fmt.Errorf("time scale %v: want > 0", opt.TimeScale)
	}
	if opt.Replica == "" {
		opt.Replica = DefaultReplica()
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, shared, err := OpenDatabase(ctx, opt.DB)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	hw, err := db.ClockHighWater(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if hw.After(start) {
		start = hw
	}
	clock := sandbox.NewFastClock(start, opt.TimeScale)
	in := &Instance{DB: db, Clock: clock, Replica: opt.Replica, Shared: shared, stop: make(chan struct{}), log: log}
	in.Metrics = NewMetrics(opt.Replica, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := db.PendingCount(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	d := delivery.NewDispatcher(clock, delivery.NewLog(nil))
	// On its own database (SQLite) the Outbox claims as many deliveries
	// ahead as it has workers, so that a freed worker starts the next
	// attempt without a round trip to the one writer; replicas sharing a
	// database claim only for free workers, leaving the rest to the others.
	prefetch := 0
	if !shared {
		prefetch = cmp.Or(opt.Workers, sandbox.DefaultWorkers)
	}
	in.Outbox = &sandbox.Outbox{Store: db, Dispatcher: d, Clock: clock, TakeOver: !shared, Workers: opt.Workers, Prefetch: prefetch,
		Lease: opt.Lease, PollInterval: opt.PollInterval, Owner: opt.Replica, Logger: log, OnAttempt: in.Metrics.Attempt}
	cfg := opt.Config
	cfg.Store, cfg.Clock, cfg.Metrics, cfg.Wake, cfg.TimeScale = db, clock, in.Metrics, in.Outbox.Wake, opt.TimeScale
	cfg.Shared = shared
	if in.Server, err = New(cfg); err != nil {
		db.Close()
		return nil, err
	}
	d.CheckDial = in.Server.CheckDial
	if err := in.Outbox.Open(); err != nil {
		db.Close()
		return nil, fmt.Errorf("start the outbox: %w", err)
	}
	interval := opt.ExpiryInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	in.wg.Add(1)
	go in.expiryLoop(interval)
	if shared {
		sync := opt.ClockSyncInterval
		if sync <= 0 {
			sync = 100 * time.Millisecond
		}
		in.syncClock()
		in.wg.Add(1)
		go in.clockLoop(sync)
	}
	return in, nil
}

// expiryLoop ends expired verifications until the Instance closes.
func (in *Instance) expiryLoop(interval time.Duration) {
	defer in.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := in.Server.Expire(ctx); err != nil {
			in.log.Warn("expiry", "err", err)
		}
		cancel()
	}
}

// clockLoop keeps the replica's sandbox clock with the others' until the
// Instance closes.
func (in *Instance) clockLoop(interval time.Duration) {
	defer in.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
		}
		in.syncClock()
	}
}

// syncClock records the replica's sandbox time in the database and moves
// its clock on to the replicas' high-water mark.
func (in *Instance) syncClock() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hw, err := in.DB.SyncClock(ctx, in.Clock.Now())
	if err != nil {
		in.log.Warn("sync the sandbox clock", "err", err)
		return
	}
	in.Clock.AdvanceTo(hw)
}

// Close stops the expiry loop and the outbox (attempts in flight end and
// are recorded, or are retried after a restart when ctx ends first) and
// closes the database.
func (in *Instance) Close(ctx context.Context) error {
	close(in.stop)
	in.wg.Wait()
	err := in.Outbox.Close(ctx)
	return errors.Join(err, in.DB.Close())
}
