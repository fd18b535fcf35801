// Package hostside starts and speaks to plugin processes. It is the other half of
// sdk.Serve, used only by the core's plugin host — never by plugin authors.
//
// Each plugin runs as a child process reached over gRPC through hashicorp/go-plugin
// (gRPC only, automatic mTLS, an explicit environment). The child runs in its own
// process group with a parent-death signal, and sdk.Serve adds a watchdog on the parent,
// so a plugin never outlives its host. Process exposes one method per protocol call;
// supervision policy (restarts, crash budgets) belongs to the caller.
package hostside

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/pluginv1"
	"github.com/kvarter/kvarter/sdk/internal/protocol"
)

// Handshake is the go-plugin handshake of protocol v1.
var Handshake = protocol.Handshake

// DefaultStartTimeout bounds the time from exec to a completed handshake.
const DefaultStartTimeout = 10 * time.Second

// Errors callers branch on.
var (
	// ErrChecksum means an external plugin executable does not match its configured
	// sha256; it was not started.
	ErrChecksum = errors.New("plugin executable checksum mismatch")
	// ErrUnavailable means the plugin process could not be reached: it exited, or is
	// not configured yet. The core answers 503 for the plugin's routes.
	ErrUnavailable = errors.New("plugin unavailable")
)

// LaunchOptions says how to start one plugin process.
type LaunchOptions struct {
	// Name is the plugin name, used in logs and errors and as the Source of the events
	// it publishes.
	Name string
	// Cmd is the command to run. The caller sets Cmd.Env explicitly: the host's own
	// environment is never inherited. Launch adds the go-plugin variables.
	Cmd *exec.Cmd
	// Checksum is the sha256 of an external executable, checked before every launch
	// on the very bytes that are then executed (see pinExecutable); nil for built-in
	// plugins (the kvarter binary itself).
	Checksum []byte
	// StartTimeout bounds the handshake; DefaultStartTimeout when zero.
	StartTimeout time.Duration
	// Logger receives the plugin's stderr and log lines, tagged plugin=<Name>.
	// slog.Default() when nil.
	Logger *slog.Logger
	// DialOptions are added to the gRPC connection to the plugin: the caller's
	// instrumentation (call latency metrics, trace propagation).
	DialOptions []grpc.DialOption
}

// Process is a running plugin. Its methods are safe for concurrent use.
type Process struct {
	name   string
	client *plugin.Client
	rpc    pluginv1.PluginClient
	broker *plugin.GRPCBroker
	runner *procRunner
	logger *slog.Logger

	mu         sync.Mutex
	manifest   *sdk.Manifest
	configured bool
	// singleEvents is set once the plugin answered HandleEvents with Unimplemented.
	singleEvents atomic.Bool
}

// Launch starts the plugin and completes the go-plugin handshake. Cancelling ctx
// aborts a launch in progress; once Launch returns, ctx no longer matters.
func Launch(ctx context.Context, o LaunchOptions) (*Process, error) {
	if o.Cmd == nil || o.Cmd.Path == "" {
		return nil, fmt.Errorf("launch plugin %s: no command", o.Name)
	}
	if o.Cmd.Process != nil {
		return nil, fmt.Errorf("launch plugin %s: command already started", o.Name)
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("plugin", o.Name)

	if o.Checksum != nil {
		f, err := pinExecutable(o.Cmd, o.Checksum)
		if err != nil {
			return nil, fmt.Errorf("launch plugin %s: verify checksum: %w", o.Name, err)
		}
		// Launch returns after the handshake, long after the child was started from f.
		defer f.Close()
	}

	r := newProcRunner(o.Cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{protocol.PluginName: &grpcPlugin{}},
		RunnerFunc:       r.prepare,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     o.StartTimeout,
		Logger:           newHCLogger(logger),
		GRPCDialOptions: append([]grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(protocol.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(protocol.MaxMessageBytes),
		)}, o.DialOptions...),
	})

	// go-plugin's Start knows no context; killing the child makes it return.
	started := make(chan struct{})
	defer close(started)
	go func() {
		select {
		case <-ctx.Done():
			r.kill()
		case <-started:
		}
	}()

	rpcClient, err := client.Client()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	var conn *pluginConn
	if err == nil {
		var raw any
		if raw, err = rpcClient.Dispense(protocol.PluginName); err == nil {
			conn = raw.(*pluginConn)
		}
	}
	if err != nil {
		r.kill()
		client.Kill()
		return nil, fmt.Errorf("launch plugin %s: %w", o.Name, err)
	}
	return &Process{
		name:   o.Name,
		client: client,
		rpc:    pluginv1.NewPluginClient(conn.conn),
		broker: conn.broker,
		runner: r,
		logger: logger,
	}, nil
}

// Exited is closed the moment the plugin process has exited, for whatever reason.
func (p *Process) Exited() <-chan struct{} { return p.runner.exited }

// Pid is the operating system process id of the plugin.
func (p *Process) Pid() int { return p.runner.pid() }

// Kill kills the plugin's whole process group at once and releases the connection.
func (p *Process) Kill() {
	p.runner.kill()
	p.client.Kill()
}

// Close asks the plugin to shut down, waits briefly for it to exit, then kills its
// process group. Call Deactivate first to let the plugin finish its work.
func (p *Process) Close() {
	p.client.Kill() // graceful: go-plugin closes the connection and waits up to 2 s
	p.runner.kill()
}

// grpcPlugin is the client half of sdk's grpcPlugin.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// pluginConn is what Dispense returns: the connection plus the broker for callbacks.
type pluginConn struct {
	conn   *grpc.ClientConn
	broker *plugin.GRPCBroker
}

func (grpcPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("hostside: the host serves no plugin")
}

func (grpcPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &pluginConn{conn: conn, broker: broker}, nil
}
