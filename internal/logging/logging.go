// Package logging builds the manager's logger: controller-runtime's zap logger whose key/value
// pairs (WithValues) are encoded only when something is logged.
package logging

import (
	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// New is zap.New(opts...) with lazy fields: controller-runtime gives every reconcile a logger with
// the object's name and a reconcile ID, and zap encodes such fields when they are added, a copy of
// the encoder each time. Most reconciles log nothing at the default level, so the encoding was
// wasted work on every reconcile (measured in docs/benchmarks.md). A logged line is the same either
// way.
func New(opts ...zap.Opts) logr.Logger {
	return zap.New(append(opts, zap.RawZapOpts(uberzap.WrapCore(Lazy)))...)
}

// Lazy wraps a core so that With defers encoding its fields until an entry is written
// (zapcore.NewLazyWith, what zap's Logger.WithLazy does), at every level of nesting. A field is
// read when first written, so pass values (names, IDs), not objects that change afterwards.
func Lazy(c zapcore.Core) zapcore.Core { return lazyCore{c} }

type lazyCore struct{ zapcore.Core }

func (c lazyCore) With(fields []zapcore.Field) zapcore.Core {
	return lazyCore{zapcore.NewLazyWith(c.Core, fields)}
}
