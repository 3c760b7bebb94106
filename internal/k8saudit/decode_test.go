package k8saudit

import (
	"os"
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  ", "empty file"},
		{"yaml", "apiVersion: v1\nkind: List", "not a JSON object"},
		{"broken json", `{"kind":"List","items":[`, "not Kubernetes JSON"},
		{"no kind", `{"items":[]}`, "no kind"},
		{"deployment list", `{"kind":"DeploymentList","items":[]}`, "kind DeploymentList is not a pod or service-account list"},
		{"secret in a list", `{"kind":"List","items":[{"kind":"Secret","metadata":{"name":"s","namespace":"n"}}]}`, "items[0]: kind Secret is not a Pod or ServiceAccount"},
		{"item without kind", `{"kind":"List","items":[{"metadata":{"name":"s","namespace":"n"}}]}`, "items[0]: item without kind"},
		{"pod without namespace", `{"kind":"PodList","items":[{"metadata":{"name":"p"}}]}`, "items[0]: Pod without metadata.name or metadata.namespace"},
		{"trailing data", `{"kind":"PodList","items":[]} {}`, "data after the top-level object"},
		{"items not an array", `{"kind":"List","items":"pods"}`, "items is not an array"},
		{"list kind after its items", `{"items":[{"kind":"Deployment","metadata":{"name":"d","namespace":"n"}}],"kind":"DeploymentList"}`, "kind DeploymentList is not a pod"},
		{"wrong type", `{"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"n"},"spec":{"hostNetwork":"yes"}}]}`, "not Kubernetes JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeForms(t *testing.T) {
	// A PodList as the API server sends it: items without kind.
	d, err := Decode([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"c1"},"items":[
	  {"metadata":{"name":"p","namespace":"n"},"spec":{"serviceAccount":"legacy","containers":[{"name":"c","env":[{"name":"AWS_ACCESS_KEY_ID","value":""}]}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Continue != "c1" || len(d.Pods) != 1 || d.Pods[0].ServiceAccount != "legacy" || d.Pods[0].Env[0].Source != "" {
		t.Errorf("PodList decoded as %+v", d)
	}
	// Items without kind before the list's kind (kubectl prints keys in
	// order: apiVersion, items, kind): resolved once the kind is read.
	d, err = Decode([]byte(`{"apiVersion":"v1","items":[{"metadata":{"name":"p","namespace":"n"}}],"kind":"PodList","metadata":{}}`))
	if err != nil || len(d.Pods) != 1 || d.Pods[0].Name != "p" {
		t.Errorf("items before kind: %+v, %v", d, err)
	}
	if _, err := Decode([]byte(`{"items":[{"metadata":{"name":"p","namespace":"n"}}],"kind":"List"}`)); err == nil || !strings.Contains(err.Error(), "items[0]: item without kind") {
		t.Errorf("kindless item of a List: %v", err)
	}
	d, err = Decode([]byte(`{"kind":"ServiceAccountList","items":[{"metadata":{"name":"s","namespace":"n","annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::111122223333:role/r"}}}]}`))
	if err != nil || len(d.ServiceAccounts) != 1 || d.ServiceAccounts[0].IRSARole != "arn:aws:iam::111122223333:role/r" {
		t.Errorf("ServiceAccountList decoded as %+v, %v", d, err)
	}
	d, err = Decode([]byte(`{"kind":"Pod","metadata":{"name":"p","namespace":"n","ownerReferences":[{"kind":"Node","name":"x"},{"kind":"DaemonSet","name":"ds","controller":true}]}}`))
	if err != nil || len(d.Pods) != 1 || d.Pods[0].Owner != (Owner{"DaemonSet", "ds"}) || d.Pods[0].ServiceAccount != "default" {
		t.Errorf("Pod decoded as %+v, %v", d, err)
	}
}

func TestDecodeAssociations(t *testing.T) {
	b, err := os.ReadFile("testdata/associations.json")
	if err != nil {
		t.Fatal(err)
	}
	as, err := DecodeAssociations(b)
	if err != nil || len(as) != 1 || as[0] != (Association{Namespace: "shop", ServiceAccount: "cart", AssociationID: "a-cart"}) {
		t.Errorf("got %+v, %v", as, err)
	}
	as, err = DecodeAssociations([]byte(`{"association":{"namespace":"a","serviceAccount":"b","roleArn":"arn:aws:iam::111122223333:role/r"}}`))
	if err != nil || len(as) != 1 || as[0].RoleARN == "" {
		t.Errorf("describe output: %+v, %v", as, err)
	}
	for _, bad := range []string{`[]`, `{"items":[]}`, `{"associations":[{"namespace":"a"}]}`, `nope`} {
		if _, err := DecodeAssociations([]byte(bad)); err == nil {
			t.Errorf("DecodeAssociations(%s) accepted", bad)
		}
	}
}

// FuzzDecode: any input is decoded or refused with an error, never a panic;
// what is decoded keeps no environment value (a variable's source is one of
// the fixed forms, never the value), and an audit of it runs.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/cluster.json", "testdata/associations.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"n"},"spec":{"hostNetwork":true,"containers":[{"env":[{"name":"AWS_ACCESS_KEY_ID","value":"SECRETVALUE"}]}]}}]}`))
	sources := []string{"secretKeyRef ", "configMapKeyRef ", "fieldRef ", "resourceFieldRef "}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil && (d.Pods != nil || d.ServiceAccounts != nil) {
			t.Fatal("data returned with an error")
		}
		for _, p := range d.Pods {
			for _, e := range p.Env {
				known := e.Source == "" || e.Source == "literal value" || e.Source == "valueFrom"
				for _, prefix := range sources {
					known = known || strings.HasPrefix(e.Source, prefix)
				}
				if !known {
					t.Fatalf("environment source %q is not one of the fixed forms", e.Source)
				}
			}
		}
		inv := &Inventory{Pods: d.Pods, ServiceAccounts: d.ServiceAccounts}
		if as, err := DecodeAssociations(data); err == nil {
			inv.Associations = as
		}
		for _, fd := range Audit(inv, Options{}) {
			if fd.Rule == "" || (fd.Severity != Critical && fd.Severity != Warning) {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}
