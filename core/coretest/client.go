package coretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/httpapi"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/openapi"
)

// Client speaks to a node over real HTTP, as a browser (cookies) or a script (bearer).
// Every response is checked against the node's OpenAPI document.
type Client struct {
	tb      testing.TB
	Node    *node.Node
	BaseURL string
	HTTP    *http.Client
	Token   string // bearer token, if any
	CSRF    string // anti-forgery token sent on unsafe requests, if any
	// SkipOpenAPICheck turns the document check off for deliberately odd requests.
	SkipOpenAPICheck bool
}

// NewClient returns an anonymous client of n with its own cookie jar.
func NewClient(tb testing.TB, n *node.Node) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{tb: tb, Node: n, BaseURL: n.URL(), HTTP: &http.Client{Jar: jar}}
}

// From returns a copy of the client whose connections come from the loopback address
// ip (any of 127.0.0.0/8), with a cookie jar of its own: a different client machine as
// far as the server can tell, for tests of what is keyed by the client's address.
func (c *Client) From(ip string) *Client {
	cp := *c
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	cp.HTTP = &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext}}
	return &cp
}

// For returns a copy of the client that reports failures to tb (a subtest's t).
func (c *Client) For(tb testing.TB) *Client {
	cp := *c
	cp.tb = tb
	return &cp
}

// Response is a status and a body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode returns error.code of an error body.
func (r *Response) ErrorCode() string {
	e, _ := r.JSON()["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// Do sends a request; body may be nil, a string/[]byte (sent as is) or a value (JSON).
func (c *Client) Do(method, path string, body any) *Response {
	c.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, rd)
	if err != nil {
		c.tb.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.CSRF != "" {
		req.Header.Set(httpapi.CSRFHeader, c.CSRF)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("read body: %v", err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if !c.SkipOpenAPICheck {
		p := req.URL.Path
		if err := openapi.CheckResponse(c.Node.Server.Document(), method, p, r.Status, r.Body); err != nil {
			c.tb.Errorf("%v\nbody: %s", err, r.Body)
		}
	}
	return r
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any) *Response {
	c.tb.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.tb.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// User is an account made by a test, with a client signed in as it (bearer).
type User struct {
	ID, Email, Password string
	*Client
}

// Register opens an account and signs it in with a bearer token.
func Register(tb testing.TB, n *node.Node, email, name string) *User {
	tb.Helper()
	c := NewClient(tb, n)
	pw := "a long enough passphrase " + email
	r := c.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": pw, "display_name": name, "language": "en"})
	id, _ := r.JSON()["id"].(string)
	login := c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw})
	tok, _ := login.JSON()["token"].(string)
	bearer := NewClient(tb, n)
	bearer.Token = tok
	return &User{ID: id, Email: email, Password: pw, Client: bearer}
}

// RawRequest sends one request over a fresh connection and returns the answer as it
// came: no cookie jar, no transparent gunzip, no OpenAPI check. For tests of the HTTP
// layer itself (headers, 304, 405, compression).
func RawRequest(tb testing.TB, method, url, body string, header map[string]string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, data
}
