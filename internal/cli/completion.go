package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/clientcmd"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// CompletePluginName is the executable kubectl runs to complete "kubectl ftcost ..." (kubectl >=
// 1.26 looks for kubectl_complete-<plugin> on PATH and passes it the words typed after the plugin's
// name). `make plugin` installs the ftcost binary under this name too; run so, it answers as
// cobra's hidden __complete command.
const CompletePluginName = "kubectl_complete-ftcost"

// completionTimeout bounds a completion's request to the cluster: a TAB must not hang.
const completionTimeout = 5 * time.Second

// setUpCompletion adds --version and the dynamic completions to the command tree: estimate names
// for the commands that take them, namespaces for -n, CostPolicies for --policy, and the values of -o
// and --format.
func setUpCompletion(root *cobra.Command) {
	root.Version = version()
	root.SetVersionTemplate("ftcost {{.Version}}\n")
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, c := range cmd.Commands() {
			walk(c)
		}
		complete(cmd)
	}
	walk(root)
}

func complete(cmd *cobra.Command) {
	fs := cmd.Flags()
	name := cmd.Name()
	values := func(flag string, v ...string) {
		if fs.Lookup(flag) != nil {
			_ = cmd.RegisterFlagCompletionFunc(flag, fixed(v...))
		}
	}
	switch {
	case name == "report":
		values("output", reportTable, reportCSV)
		_ = cmd.RegisterFlagCompletionFunc("policy", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return listNames(cmd, ftv1.GroupVersion.WithResource("costpolicies"), "", toComplete)
		})
	case fs.Lookup("no-headers") != nil: // kubectl's printers (get, estimate)
		formats := append([]string{"wide"}, genericclioptions.NewPrintFlags("").AllowedFormats()...)
		values("output", formats...)
	case name == "catalog":
		values("output", "yaml", "json")
	}
	switch name {
	case "chart":
		values("format", "svg", "png")
	case "import":
		values("format", "litellm", "skypilot", "opencost")
	}
	if fs.Lookup("namespace") != nil {
		_ = cmd.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return listNames(cmd, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "", toComplete)
		})
	}
	switch name {
	case "get", "chart", "explain":
		multiple := name == "get"
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if f := cmd.Flags().Lookup("filename"); f != nil && f.Changed {
				return nil, cobra.ShellCompDirectiveNoFileComp // the names are in the file
			}
			if !multiple && len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ns := ""
			if all, _ := cmd.Flags().GetBool("all-namespaces"); !all {
				ns = namespaceOf(cmd)
			}
			prefix := ""
			if p, rest, ok := strings.Cut(toComplete, "/"); ok {
				prefix, toComplete = p+"/", rest
			}
			names, dir := listNames(cmd, ftv1.GroupVersion.WithResource("finetuneestimates"), ns, toComplete)
			for i := range names {
				names[i] = prefix + names[i]
			}
			return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(args, n) }), dir
		}
	}
}

// fixed completes one of values.
func fixed(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		dir := cobra.ShellCompDirectiveNoFileComp
		if len(out) == 1 && strings.HasSuffix(out[0], "=") {
			dir |= cobra.ShellCompDirectiveNoSpace // jsonpath=, custom-columns=: the user types on
		}
		return out, dir
	}
}

// clientConfig is the kubeconfig the command's kubectl flags (--kubeconfig, --context, ...) select.
func clientConfig(cmd *cobra.Command) clientcmd.ClientConfig {
	get := func(name string) string {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = get("kubeconfig")
	overrides := &clientcmd.ConfigOverrides{CurrentContext: get("context")}
	overrides.Context.Cluster, overrides.Context.AuthInfo = get("cluster"), get("user")
	overrides.ClusterInfo.Server = get("server")
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// namespaceOf is -n, else the context's namespace, else "default", as kubectl resolves it.
func namespaceOf(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("namespace"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	ns, _, err := clientConfig(cmd).Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// listNames lists the names of a resource (in ns; "" for all or cluster-scoped) that start with
// prefix, through the metadata API: completion needs no more. A cluster that cannot be reached
// completes nothing.
func listNames(cmd *cobra.Command, gvr schema.GroupVersionResource, ns, prefix string) ([]string, cobra.ShellCompDirective) {
	cfg, err := clientConfig(cmd).ClientConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	cfg.Timeout = completionTimeout
	c, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	list, err := c.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var names []string
	for _, item := range list.Items {
		if strings.HasPrefix(item.Name, prefix) && !slices.Contains(names, item.Name) {
			names = append(names, item.Name)
		}
	}
	slices.Sort(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}
