// Package kubesource reads what credguard k8s audit needs from a live
// cluster: pods and service accounts from the Kubernetes API through
// client-go (a kubeconfig with its default loading rules, or an EKS
// endpoint and a token built from the AWS credential chain), and Pod
// Identity associations and role trust policies from EKS and IAM. It reads
// pods and service accounts only, never Secrets.
package kubesource

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/credguard/credguard/internal/k8saudit"
)

// KubeconfigEKSCluster returns the region and name of the EKS cluster that
// the kubeconfig context (path and context as KubeconfigREST) points at, when
// its cluster entry is named by the cluster's ARN, as aws eks
// update-kubeconfig writes it; ok is false otherwise.
func KubeconfigEKSCluster(path, context string) (region, name string, ok bool) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: context}).RawConfig()
	if err != nil {
		return "", "", false
	}
	current := raw.CurrentContext
	if context != "" {
		current = context
	}
	c := raw.Contexts[current]
	if c == nil {
		return "", "", false
	}
	p := strings.SplitN(c.Cluster, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "eks" || p[3] == "" || !strings.HasPrefix(p[5], "cluster/") {
		return "", "", false
	}
	return p[3], strings.TrimPrefix(p[5], "cluster/"), true
}

// pageSize is the limit of each list request (the API server pages with continue).
const pageSize = 500

// KubeconfigREST loads a client configuration with kubectl's default loading
// rules (KUBECONFIG, ~/.kube/config), an explicit file when path is set, and
// the context when set. Exec credential plugins (aws eks get-token) work.
func KubeconfigREST(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// List reads every pod and service account of the cluster, in all
// namespaces, page by page, and decodes them as --from files are decoded.
func List(ctx context.Context, cfg *rest.Config) (k8saudit.Decoded, error) {
	return list(ctx, cfg, pageSize)
}

func list(ctx context.Context, cfg *rest.Config, limit int) (k8saudit.Decoded, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = "application/json"
	c.AcceptContentTypes = "application/json"
	if c.UserAgent == "" {
		c.UserAgent = "credguard-k8s-audit"
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return k8saudit.Decoded{}, fmt.Errorf("kubernetes client: %w", err)
	}
	client := cs.CoreV1().RESTClient()
	var out k8saudit.Decoded
	for _, resource := range []string{"pods", "serviceaccounts"} {
		cont := ""
		for page := 1; ; page++ {
			req := client.Get().Resource(resource).Param("limit", fmt.Sprint(limit))
			if cont != "" {
				req = req.Param("continue", cont)
			}
			raw, err := req.Do(ctx).Raw()
			if err != nil {
				return k8saudit.Decoded{}, fmt.Errorf("list %s (page %d): %w", resource, page, err)
			}
			d, err := k8saudit.Decode(raw)
			if err != nil {
				return k8saudit.Decoded{}, fmt.Errorf("list %s (page %d): %w", resource, page, err)
			}
			out.Pods = append(out.Pods, d.Pods...)
			out.ServiceAccounts = append(out.ServiceAccounts, d.ServiceAccounts...)
			if d.Continue == "" {
				break
			}
			cont = d.Continue
		}
	}
	return out, nil
}
