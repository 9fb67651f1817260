package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxGroup bounds how many writes share one transaction.
const maxGroup = 64

// Group commit. SQLite has one writer, and a commit costs the same for
// one row as for sixty: so every write of the store goes to one committer
// goroutine, which runs the writes queued at that moment in one
// transaction, each inside a SAVEPOINT of its own, and commits once. A
// write that fails is rolled back to its savepoint and fails alone; the
// others commit. Every caller returns only after the COMMIT that holds its
// write (or the error of one that failed), so "durable when it returns"
// holds for each. A lone write is a transaction of one.
//
// (Savepoint statements go through the same prepared-statement cache as
// the writes.)
var (
	qSavepoint  = writeQuery(`SAVEPOINT write`)
	qRelease    = writeQuery(`RELEASE write`)
	qRollbackTo = writeQuery(`ROLLBACK TO write`)
)

// write is one caller's share of a group transaction.
type write struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	done chan error
}

type committer struct {
	writes chan *write
	quit   chan struct{}
	exited chan struct{}
}

func (db *DB) startCommitter() {
	c := &committer{writes: make(chan *write), quit: make(chan struct{}), exited: make(chan struct{})}
	db.mu.Lock()
	db.committer = c
	db.mu.Unlock()
	go db.commitLoop(c)
}

func (db *DB) stopCommitter() {
	db.mu.Lock()
	c := db.committer
	db.committer = nil
	db.mu.Unlock()
	if c != nil {
		close(c.quit)
		<-c.exited
	}
}

// tx runs fn in a write transaction, shared with other writes queued at
// the same time, and returns when it is committed. fn must only write
// through tx, with the context it is given: not ctx, whose end could
// interrupt a statement, and an interrupted write rolls back the whole
// shared transaction. ctx bounds the wait to start.
func (db *DB) tx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	db.mu.Lock()
	c := db.committer
	db.mu.Unlock()
	if c == nil {
		return errors.New("the database is not open")
	}
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.writes <- w:
	case <-c.quit:
		return errors.New("the database is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the write is waited for even when ctx ends: the caller
	// must not be told it failed if it was committed. A group is bounded
	// (maxGroup writes, each a few statements, and the busy timeout).
	return <-w.done
}

func (db *DB) commitLoop(c *committer) {
	defer close(c.exited)
	for {
		var group []*write
		select {
		case w := <-c.writes:
			group = append(group, w)
		case <-c.quit:
			return
		}
	collect:
		for len(group) < maxGroup {
			select {
			case w := <-c.writes:
				group = append(group, w)
			default:
				break collect
			}
		}
		db.commitGroup(group)
	}
}

// commitGroup runs the writes in one transaction and tells each its
// outcome.
func (db *DB) commitGroup(group []*write) {
	errs := make([]error, len(group))
	err := db.runGroup(group, errs)
	for i, w := range group {
		if errs[i] == nil && err != nil {
			errs[i] = err
		}
		w.done <- errs[i]
	}
}

func (db *DB) runGroup(group []*write, errs []error) (err error) {
	// The transaction itself is not the callers': one caller's context
	// ending must not roll back the others' writes.
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := db.exec(ctx, tx, qSavepoint); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if errs[i] = w.fn(ctx, tx); errs[i] != nil {
			if _, err := db.exec(ctx, tx, qRollbackTo); err != nil {
				return fmt.Errorf("roll back to savepoint: %w", err)
			}
		}
		if _, err := db.exec(ctx, tx, qRelease); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
