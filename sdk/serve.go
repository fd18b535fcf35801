package sdk

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kvarter/kvarter/sdk/internal/protocol"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Serve runs p as a plugin process: it is the whole body of a plugin's main. It
// answers the host over gRPC until the host closes the connection, then exits; it
// never returns normally. It also exits if the host process dies.
//
// Run directly rather than by Kvarter, the executable prints a short notice and exits.
func Serve(p Plugin) {
	// go-plugin replaces os.Stderr with a pipe for its stdio stream; logs go to the
	// real stderr, which the host reads line by line.
	stderr := os.Stderr
	logger := newLogger(stderr, os.Getenv("KVARTER_LOG_LEVEL"))
	watchParent(logger)
	// The host passes its OTLP endpoint when it traces; without one this is off and
	// the gRPC server below gets no instrumentation.
	name := os.Getenv("KVARTER_PLUGIN_NAME")
	if name == "" {
		name = p.Manifest().Name
	}
	tracing, err := telemetry.FromEnv(context.Background(), "kvarter-plugin-"+name)
	if err != nil {
		logger.Warn("tracing is off", "err", err)
		tracing = &telemetry.Tracing{}
	}

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: protocol.Handshake,
		Plugins: plugin.PluginSet{
			protocol.PluginName: &grpcPlugin{p: p, logger: logger, tracing: tracing},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.MaxRecvMsgSize(protocol.MaxMessageBytes),
				grpc.MaxSendMsgSize(protocol.MaxMessageBytes),
				// Without workers gRPC starts a goroutine per call, whose stack then
				// grows through the handler on every request (a profile put that
				// at a seventh of the plugin's CPU). Workers keep their grown stacks;
				// when all are busy gRPC still starts a goroutine, so nothing queues.
				grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))))
			opts = append(opts, tracing.ServerOptions()...)
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "go-plugin",
			Level:      hclog.Info,
			Output:     stderr,
			JSONFormat: true,
		}),
	})
	// The host closed the connection (or the handshake failed, which go-plugin has
	// reported): nothing is left to serve. Spans still buffered go out first; the
	// host waits about two seconds for the process to end.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = tracing.Shutdown(ctx)
	cancel()
	os.Exit(0)
}

// newLogger writes JSON lines in the shape go-plugin's host side parses (@level,
// @message, @timestamp), so the host re-logs them at the right level tagged with the
// plugin name.
func newLogger(w io.Writer, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || level == "" {
		lvl = slog.LevelInfo
	}
	return slog.New(contextHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: lvl,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(protocol.LogTimeFormat))
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})})
}

// contextHandler adds the request id and, when tracing is on, the trace and span id
// from the context to every record logged with one, so a plugin's log lines while
// serving a request join the host's lines and the trace.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if traceID, spanID := telemetry.IDs(ctx); traceID != "" {
		r.AddAttrs(slog.String("trace_id", traceID), slog.String("span_id", spanID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

func hclogLevel(v any) string {
	l, ok := v.(slog.Level)
	if !ok {
		return strings.ToLower(slog.AnyValue(v).String())
	}
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}
