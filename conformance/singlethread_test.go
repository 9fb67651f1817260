package conformance

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// oneAtATime is a listener that hands out one connection at a time: the
// next is accepted only once the last is closed, as a single-threaded
// server serves them.
type oneAtATime struct {
	net.Listener
	turn chan struct{}
}

func (l *oneAtATime) Accept() (net.Conn, error) {
	l.turn <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.turn
		return nil, err
	}
	return &turnConn{Conn: c, done: sync.OnceFunc(func() { <-l.turn })}, nil
}

// turnConn gives the listener's turn back when it is closed.
type turnConn struct {
	net.Conn
	done func()
}

func (c *turnConn) Close() error {
	err := c.Conn.Close()
	c.done()
	return err
}

// singleThreaded serves a handler the way a single-threaded development
// server does: one connection at a time, closed after each answer (no
// keep-alive), behind a listen backlog of backlog connections.
func singleThreaded(t *testing.T, h http.Handler, backlog int) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = &oneAtATime{Listener: smallBacklogListener(t, backlog), turn: make(chan struct{}, 1)}
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	return srv
}
