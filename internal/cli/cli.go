// Package cli is the ftcost command line: offline estimates that print exactly the status the
// operator would write, the built-in price catalog, and the version. Commands take their streams from
// Streams so tests run them in-process.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	// ExitOK: every estimate was computed and no --fail-on gate tripped.
	ExitOK = 0
	// ExitGate: a --fail-on gate tripped.
	ExitGate = 1
	// ExitInput: bad input or usage: an unreadable file, invalid YAML, an unknown kind, a schema or
	// CEL violation, or an estimate that is not Ready (ModelNotFound, CatalogNotFound, ...).
	ExitInput = 2
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError carries an exit code out of a command that has already reported why.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Execute runs ftcost with the process's arguments and streams and returns the exit code. Installed
// as kubectl-ftcost on PATH, the binary is the kubectl plugin "kubectl ftcost", and says so in help.
func Execute() int {
	return runAs(filepath.Base(os.Args[0]), os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// Run runs ftcost with args and returns the exit code.
func Run(args []string, s Streams) int { return runAs("ftcost", args, s) }

// PluginName is the binary's name as a kubectl plugin.
const PluginName = "kubectl-ftcost"

func runAs(binary string, args []string, s Streams) int {
	root := NewRootCommand(s)
	switch strings.TrimSuffix(binary, ".exe") {
	case PluginName:
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl ftcost"}
	case CompletePluginName: // kubectl asks it to complete "kubectl ftcost ARGS"
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl ftcost"}
		args = append([]string{cobra.ShellCompRequestCmd}, args...)
	}
	root.SetArgs(args)
	err := root.Execute()
	var exit *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return exit.code
	default:
		fmt.Fprintf(s.Err, "Error: %v\n", err)
		return ExitInput
	}
}

// NewRootCommand builds the ftcost command tree writing to s.
func NewRootCommand(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "ftcost",
		Short: "Estimate whether fine-tuning an open model pays off against an LLM API",
		Long: `ftcost estimates FineTuneEstimate manifests offline, exactly as the ftcost operator would:
the same validation as the API server (schema and CEL rules of the CRDs) and the same status.
It also reads estimates from the cluster (get, chart, explain) and the budgets' ledgers of the
CostPolicies (report) with kubectl's flags; installed on PATH as kubectl-ftcost it is the kubectl
plugin "kubectl ftcost".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.AddCommand(newEstimateCommand(s), newGetCommand(s), newChartCommand(s), newExplainCommand(s), newCatalogCommand(s),
		newRentVsBuyCommand(s), newReportCommand(s), newVersionCommand(s))
	setUpCompletion(root)
	return root
}
