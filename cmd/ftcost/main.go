// Command ftcost estimates FineTuneEstimates offline, exactly as the ftcost operator would.
package main

import (
	"os"

	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/version"
)

func main() {
	// One version for both binaries: stamped by the build, else the toolchain's VCS revision.
	if cli.Version == "" {
		cli.Version = version.Get()
	}
	os.Exit(cli.Execute())
}
