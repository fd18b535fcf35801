package sdktest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// dbProxy forwards loopback TCP connections to the PostgreSQL test server. Down closes
// the listener and every connection, as a database that crashed or lost its network
// would; Up listens again on the same address.
type dbProxy struct {
	tb     testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// startProxy starts a proxy to base's host and returns base rewritten to use it.
func startProxy(tb testing.TB, base string) (*dbProxy, string) {
	tb.Helper()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	p := &dbProxy{tb: tb, target: u.Host, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.up()
	tb.Cleanup(p.down)
	u.Host = p.addr
	return p, u.String()
}

func (p *dbProxy) up() {
	p.tb.Helper()
	var ln net.Listener
	var err error
	// The port was ours a moment ago; after Down the kernel may take a moment to free it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		p.tb.Fatalf("database proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *dbProxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // went down meanwhile
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

func (p *dbProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *dbProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// DatabaseDown cuts the core and its plugins off PostgreSQL: open connections drop and
// new ones are refused until DatabaseUp. It needs Options.DatabaseProxy.
func (c *Core) DatabaseDown() {
	c.tb.Helper()
	if c.proxy == nil {
		c.tb.Fatal("sdktest: DatabaseDown needs Options{Postgres: true, DatabaseProxy: true}")
	}
	c.proxy.down()
}

// DatabaseUp gives the database back after DatabaseDown.
func (c *Core) DatabaseUp() {
	c.tb.Helper()
	if c.proxy == nil {
		c.tb.Fatal("sdktest: DatabaseUp needs Options{Postgres: true, DatabaseProxy: true}")
	}
	c.proxy.up()
}
