package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/client-go/rest"

	"github.com/credguard/credguard/internal/k8saudit"
	"github.com/credguard/credguard/internal/kubesource"
)

const k8sUsage = `usage: credguard k8s audit [--kubeconfig F] [--context C] | [--cluster NAME --region R] | [--from FILE ...]
                          [--associations FILE] [--allow-host-network NS/NAME ...] [--json]

Audits a Kubernetes cluster's pods and service accounts for pods that can
take the node role (hostNetwork), static AWS keys, service accounts without
IRSA or Pod Identity, shared and default service accounts with roles, and
(with the AWS side) roles whose trust is critical or does not admit the
service account. Reads pods and service accounts only, never Secrets.

sources (one of):
  (default)              the current kubeconfig context (KUBECONFIG, ~/.kube/config); a cluster
                         named by its EKS ARN also gets the AWS side, as with --cluster
  --kubeconfig F         that kubeconfig file; --context C picks a context
  --cluster NAME         the EKS cluster: endpoint and CA from eks:DescribeCluster, a token
                         built from the AWS credential chain, Pod Identity associations
                         and role trust from EKS and IAM (--region R, or the AWS config's)
  --from FILE            offline: kubectl get pods,serviceaccounts -A -o json (a List), or
                         PodList and ServiceAccountList files (- reads standard input); repeatable
flags:
  --associations FILE    aws eks list-pod-identity-associations output; repeatable
  --allow-host-network NS/NAME  exempt a workload (or pod, or NS/*) from host-network-node-role; repeatable
  --json                 {"findings":[…]} instead of the table

exit: 0 no critical finding, 1 a critical finding, 2 bad input or an error
`

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runK8s(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "audit" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, k8sUsage)
			return 0
		}
		fmt.Fprint(stderr, k8sUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runK8sAudit(ctx, args[1:], stdin, stdout, stderr)
}

// k8sAuditFlags are the parsed flags of credguard k8s audit.
type k8sAuditFlags struct {
	kubeconfig, kubeContext, cluster, region string
	from, associations, allow                multiFlag
	json                                     bool
}

func parseK8sAuditFlags(args []string, stderr io.Writer) (k8sAuditFlags, error) {
	var f k8sAuditFlags
	fs := flag.NewFlagSet("credguard k8s audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "")
	fs.StringVar(&f.kubeContext, "context", "", "")
	fs.StringVar(&f.cluster, "cluster", "", "")
	fs.StringVar(&f.region, "region", "", "")
	fs.Var(&f.from, "from", "")
	fs.Var(&f.associations, "associations", "")
	fs.Var(&f.allow, "allow-host-network", "")
	fs.BoolVar(&f.json, "json", false, "")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, a := range f.allow {
		if err := k8saudit.CheckAllowEntry(a); err != nil {
			return f, fmt.Errorf("--allow-host-network %w", err)
		}
	}
	switch {
	case len(f.from) > 0 && (f.kubeconfig != "" || f.kubeContext != "" || f.cluster != ""):
		return f, errors.New("--from reads files: it does not go with --kubeconfig, --context or --cluster")
	case f.cluster != "" && (f.kubeconfig != "" || f.kubeContext != ""):
		return f, errors.New("--cluster builds its own connection: it does not go with --kubeconfig or --context")
	case f.region != "" && f.cluster == "":
		return f, errors.New("--region goes with --cluster")
	case len(f.associations) > 0 && f.cluster != "":
		return f, errors.New("--cluster reads the associations from EKS: --associations is for the other sources")
	}
	return f, nil
}

func runK8sAudit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseK8sAuditFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, k8sUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "credguard k8s audit: %v\n%s", err, k8sUsage)
		return 2
	}
	var inv *k8saudit.Inventory
	switch {
	case len(f.from) > 0:
		inv, err = inventoryFromFiles(f.from, f.associations, stdin)
	case f.cluster != "":
		var cfg aws.Config
		var opts []func(*config.LoadOptions) error
		if f.region != "" {
			opts = append(opts, config.WithRegion(f.region))
		}
		if cfg, err = config.LoadDefaultConfig(ctx, opts...); err != nil {
			err = fmt.Errorf("AWS configuration: %w", err)
			break
		}
		if cfg.Region == "" {
			err = errors.New("--cluster needs --region (or a region in the AWS configuration)")
			break
		}
		inv, err = inventoryFromEKS(ctx, cfg, f.cluster)
	default:
		inv, err = inventoryFromKubeconfig(ctx, f.kubeconfig, f.kubeContext, f.associations, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "credguard k8s audit: %v\n", err)
		return 2
	}
	for _, arn := range sortedRoleARNs(inv.Roles) {
		if rt := inv.Roles[arn]; rt.Err != "" {
			fmt.Fprintf(stderr, "credguard k8s audit: trust of %s not judged: %s\n", arn, rt.Err)
		}
	}
	findings := k8saudit.Audit(inv, k8saudit.Options{AllowHostNetwork: f.allow})
	if f.json {
		err = k8saudit.WriteJSON(stdout, findings)
	} else {
		err = writeK8sTable(stdout, inv, findings)
	}
	if err != nil {
		fmt.Fprintf(stderr, "credguard k8s audit: %v\n", err)
		return 2
	}
	if k8saudit.HasCritical(findings) {
		return 1
	}
	return 0
}

// inventoryFromFiles reads --from ("-": standard input) and --associations files.
func inventoryFromFiles(from, associations []string, stdin io.Reader) (*k8saudit.Inventory, error) {
	inv := &k8saudit.Inventory{}
	for _, name := range from {
		d, err := decodeFile(name, stdin)
		if name == "-" {
			name = "stdin"
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if d.Continue != "" {
			return nil, fmt.Errorf("%s: a partial list (metadata.continue is set): save the whole list, as kubectl get does", name)
		}
		inv.Pods = append(inv.Pods, d.Pods...)
		inv.ServiceAccounts = append(inv.ServiceAccounts, d.ServiceAccounts...)
	}
	return inv, addAssociationFiles(inv, associations)
}

// decodeFile streams one --from file ("-": stdin) through the decoder.
func decodeFile(name string, stdin io.Reader) (k8saudit.Decoded, error) {
	if name == "-" {
		return k8saudit.DecodeReader(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return k8saudit.Decoded{}, err
	}
	defer f.Close()
	return k8saudit.DecodeReader(f)
}

func addAssociationFiles(inv *k8saudit.Inventory, files []string) error {
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		as, err := k8saudit.DecodeAssociations(data)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		inv.Associations = append(inv.Associations, as...)
	}
	return nil
}

// inventoryFromKubeconfig lists the cluster of a kubeconfig context. When
// the context's cluster is named by an EKS cluster ARN (aws eks
// update-kubeconfig) and no --associations file is given, the AWS side comes
// from EKS and IAM as with --cluster; if that fails (no AWS credentials), it
// says so on stderr and the audit goes on without it.
func inventoryFromKubeconfig(ctx context.Context, path, kubeContext string, associations []string, stderr io.Writer) (*k8saudit.Inventory, error) {
	rc, err := kubesource.KubeconfigREST(path, kubeContext)
	if err != nil {
		return nil, err
	}
	inv, err := listInventory(ctx, rc)
	if err != nil {
		return nil, err
	}
	if region, name, ok := kubesource.KubeconfigEKSCluster(path, kubeContext); ok && len(associations) == 0 {
		if err := addEKSSide(ctx, inv, region, name); err != nil {
			fmt.Fprintf(stderr, "credguard k8s audit: Pod Identity and role trust of EKS cluster %s not read: %v\n", name, err)
		}
		return inv, nil
	}
	return inv, addAssociationFiles(inv, associations)
}

// addEKSSide reads the AWS side of the cluster for the kubeconfig source.
func addEKSSide(ctx context.Context, inv *k8saudit.Inventory, region, cluster string) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	eksAPI := eks.NewFromConfig(cfg)
	info, _, err := kubesource.Cluster(ctx, cfg, eksAPI, cluster)
	if err != nil {
		return err
	}
	return addAWSSide(ctx, cfg, eksAPI, inv, info)
}

// addAWSSide adds the cluster's identity, its Pod Identity associations and
// the trust of every bound role.
func addAWSSide(ctx context.Context, cfg aws.Config, eksAPI kubesource.EKSAPI, inv *k8saudit.Inventory, info k8saudit.Cluster) error {
	assocs, err := kubesource.Associations(ctx, eksAPI, info.Name)
	if err != nil {
		return err
	}
	inv.Cluster, inv.Associations = info, assocs
	inv.Roles = kubesource.Roles(ctx, iam.NewFromConfig(cfg), info.Account, boundRoleARNs(inv))
	return nil
}

// boundRoleARNs lists the roles of IRSA annotations and associations.
func boundRoleARNs(inv *k8saudit.Inventory) []string {
	var arns []string
	for _, sa := range inv.ServiceAccounts {
		if sa.IRSARole != "" {
			arns = append(arns, sa.IRSARole)
		}
	}
	for _, a := range inv.Associations {
		if a.RoleARN != "" {
			arns = append(arns, a.RoleARN)
		}
	}
	return arns
}

// inventoryFromEKS reads the EKS cluster: its Kubernetes API through the
// endpoint and CA of DescribeCluster with a token from cfg's credentials, its
// Pod Identity associations, and the trust of every bound role.
func inventoryFromEKS(ctx context.Context, cfg aws.Config, cluster string) (*k8saudit.Inventory, error) {
	eksAPI := eks.NewFromConfig(cfg)
	info, rc, err := kubesource.Cluster(ctx, cfg, eksAPI, cluster)
	if err != nil {
		return nil, err
	}
	inv, err := listInventory(ctx, rc)
	if err != nil {
		return nil, err
	}
	return inv, addAWSSide(ctx, cfg, eksAPI, inv, info)
}

func sortedRoleARNs(m map[string]k8saudit.RoleTrust) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// writeK8sTable prints what was read and the findings' table.
func writeK8sTable(w io.Writer, inv *k8saudit.Inventory, findings []k8saudit.Finding) error {
	fmt.Fprintf(w, "%d pods, %d service accounts, %d Pod Identity associations\n\n", len(inv.Pods), len(inv.ServiceAccounts), len(inv.Associations))
	return k8saudit.WriteTable(w, findings)
}

// listInventory reads the cluster's pods and service accounts.
func listInventory(ctx context.Context, rc *rest.Config) (*k8saudit.Inventory, error) {
	d, err := kubesource.List(ctx, rc)
	if err != nil {
		return nil, err
	}
	return &k8saudit.Inventory{Pods: d.Pods, ServiceAccounts: d.ServiceAccounts}, nil
}
