package sandboxapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// Options configure an Instance: the server's Config (without Store,
// Clock, Wake and Metrics, which the Instance makes) and the parts below.
type Options struct {
	Config
	// DB is the SQLite database file, or sqlite.Memory.
	DB string
	// TimeScale multiplies the sandbox's waits (retry delays, token
	// lifetimes, session timeouts): 0.001 runs an hour in 3.6 s. 1 when
	// 0.
	TimeScale float64
	// Workers bounds the callback attempts in flight (the Outbox's).
	Workers int
	// ExpiryInterval is how often (wall clock) expired tokens and
	// sessions are looked for; 100 ms when 0.
	ExpiryInterval time.Duration
	// PollInterval is the Outbox's idle poll (its default when 0).
	PollInterval time.Duration
}

// Instance is a running sandbox: the database, the sandbox clock, the
// outbox that delivers callbacks, the expiry loop and the HTTP server.
type Instance struct {
	Server  *Server
	DB      *sqlite.DB
	Outbox  *sandbox.Outbox
	Clock   *sandbox.FastClock
	Metrics *Metrics

	stop chan struct{}
	wg   sync.WaitGroup
	log  *slog.Logger
}

// Open opens the database (its clock resumes where it stopped), starts
// delivering what is pending (callbacks in flight when the last process
// died are retried at once) and returns the running sandbox.
func Open(ctx context.Context, opt Options) (*Instance, error) {
	if opt.TimeScale == 0 {
		opt.TimeScale = 1
	}
	if opt.TimeScale < 0 {
		return nil, fmt.Errorf("time scale %v: want > 0", opt.TimeScale)
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := sqlite.NewDB(opt.DB)
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open %s: %w", opt.DB, err)
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
	in := &Instance{DB: db, Clock: clock, stop: make(chan struct{}), log: log}
	in.Metrics = NewMetrics(func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := db.PendingCount(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	d := delivery.NewDispatcher(clock, delivery.NewLog(nil))
	in.Outbox = &sandbox.Outbox{Store: db, Dispatcher: d, Clock: clock, TakeOver: true, Workers: opt.Workers,
		PollInterval: opt.PollInterval, Logger: log, OnAttempt: in.Metrics.Attempt}
	cfg := opt.Config
	cfg.Store, cfg.Clock, cfg.Metrics, cfg.Wake, cfg.TimeScale = db, clock, in.Metrics, in.Outbox.Wake, opt.TimeScale
	if in.Server, err = New(cfg); err != nil {
		db.Close()
		return nil, err
	}
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

// Close stops the expiry loop and the outbox (attempts in flight end and
// are recorded, or are retried after a restart when ctx ends first) and
// closes the database.
func (in *Instance) Close(ctx context.Context) error {
	close(in.stop)
	in.wg.Wait()
	err := in.Outbox.Close(ctx)
	return errors.Join(err, in.DB.Close())
}
