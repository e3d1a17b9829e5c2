package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

func newCatalogCommand(s Streams) *cobra.Command {
	output := "yaml"
	cmd := &cobra.Command{
		Use:   "catalog [-o yaml|json]",
		Short: "Print the built-in price catalog as the PriceCatalog \"default\"",
		Long: `catalog prints the prices compiled into ftcost as a PriceCatalog named "default", ready for
kubectl apply. Edit the prices and apply it to override the built-in catalog cluster-wide, or pass it
to ftcost estimate --catalog.`,
		Example: `  ftcost catalog | kubectl apply -f -
  ftcost catalog > prices.yaml && ftcost estimate -f fte.yaml --catalog prices.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printCatalog(s.Out, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: yaml or json")
	cmd.AddCommand(newCatalogImportCommand(s))
	return cmd
}

// builtinCatalogObject is the built-in catalog as the manifest of PriceCatalog "default": no status,
// nothing the server sets.
func builtinCatalogObject() (map[string]any, error) {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), ftv1.DefaultCatalogName)
	b, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	delete(obj, "status")
	return obj, nil
}

func printCatalog(w io.Writer, output string) error {
	obj, err := builtinCatalogObject()
	if err != nil {
		return err
	}
	var b []byte
	switch output {
	case "yaml":
		b, err = yaml.Marshal(obj)
	case "json":
		b, err = json.MarshalIndent(obj, "", "    ")
		b = append(b, '\n')
	default:
		return fmt.Errorf("unknown output format %q: use yaml or json", output)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Version is ftcost's version, set at build time with
// -ldflags "-X github.com/ftcost/ftcost/internal/cli.Version=v0.1.0".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newVersionCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of ftcost",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(s.Out, "ftcost %s\nAPI: %s\nGo: %s %s/%s\n", version(), ftv1.GroupVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
