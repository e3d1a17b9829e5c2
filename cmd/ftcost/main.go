// Command ftcost estimates FineTuneEstimates offline, exactly as the ftcost operator would.
package main

import (
	"os"

	"github.com/ftcost/ftcost/internal/cli"
)

func main() {
	os.Exit(cli.Execute())
}
