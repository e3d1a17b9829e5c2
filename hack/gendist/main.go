// Command gendist writes dist/chart and dist/install.yaml from config/ (make chart, make build-installer),
// and splits config/rbac/role.yaml into the roles of each feature (make manifests).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ftcost/ftcost/internal/dist"
)

func main() {
	root := flag.String("root", ".", "The repository's top folder.")
	chart := flag.String("chart", "", "Write the Helm chart into this folder (replacing it).")
	installer := flag.String("installer", "", "Write config/default as one manifest to this file.")
	image := flag.String("image", "", "The manager's image (name:tag) in the installer; empty keeps config/manager's.")
	rbac := flag.Bool("rbac", false, "Split config/rbac/role.yaml into config/rbac's per-feature roles.")
	flag.Parse()
	if *rbac {
		if err := dist.WriteRBAC(*root); err != nil {
			fmt.Fprintln(os.Stderr, "gendist:", err)
			os.Exit(1)
		}
	}
	if err := run(*root, *chart, *installer, *image); err != nil {
		fmt.Fprintln(os.Stderr, "gendist:", err)
		os.Exit(1)
	}
}

func run(root, chart, installer, image string) error {
	if chart != "" {
		files, err := dist.Chart(root)
		if err != nil {
			return err
		}
		if err := dist.WriteChart(chart, files); err != nil {
			return err
		}
	}
	if installer != "" {
		b, err := dist.Installer(root, image)
		if err != nil {
			return err
		}
		if err := os.WriteFile(installer, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
