// Package version says which build of ftcost is running. Release builds stamp Version with
//
//	-ldflags "-X github.com/ftcost/ftcost/internal/version.Version=$(git describe --tags --always --dirty)"
//
// (the Makefile and the Dockerfile do); other builds fall back to what the Go toolchain recorded.
package version

import (
	"runtime/debug"
	"strings"
)

// Version is set at link time; empty means "work it out from the build info".
var Version = ""

// Get returns the stamped version, else the module version `go install module@version` records,
// else the VCS revision `go build` records in a git checkout (with "-dirty" for uncommitted
// changes), else "dev".
func Get() string {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, bi)
}

// Revision returns the VCS revision the binary was built from, or "" when the toolchain did not
// record one (-buildvcs=false, or a build outside a git checkout such as a Docker context).
func Revision() string {
	bi, _ := debug.ReadBuildInfo()
	rev, _ := vcs(bi)
	return rev
}

func resolve(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := vcs(bi)
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func vcs(bi *debug.BuildInfo) (revision string, modified bool) {
	if bi == nil {
		return "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = strings.EqualFold(s.Value, "true")
		}
	}
	return revision, modified
}
