package k8saudit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Decoded is what one Kubernetes JSON document held.
type Decoded struct {
	Pods            []Pod
	ServiceAccounts []ServiceAccount
	// Continue is the list's metadata.continue: more pages follow when set.
	Continue string
}

// object is the union of the Pod and ServiceAccount fields the audit reads.
// Environment values are never kept: presence only records whether a
// literal value was set.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Continue  string `json:"continue"`
		Labels    struct {
			TemplateHash string `json:"pod-template-hash"`
		} `json:"labels"`
		Annotations struct {
			RoleARN string `json:"eks.amazonaws.com/role-arn"`
		} `json:"annotations"`
		OwnerReferences []struct {
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Controller *bool  `json:"controller"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName  string      `json:"serviceAccountName"`
		ServiceAccount      string      `json:"serviceAccount"`
		HostNetwork         bool        `json:"hostNetwork"`
		Containers          []container `json:"containers"`
		InitContainers      []container `json:"initContainers"`
		EphemeralContainers []container `json:"ephemeralContainers"`
	} `json:"spec"`
}

type container struct {
	Name string `json:"name"`
	Env  []struct {
		Name      string     `json:"name"`
		Value     presence   `json:"value"`
		ValueFrom *valueFrom `json:"valueFrom"`
	} `json:"env"`
}

type valueFrom struct {
	SecretKeyRef    *keyRef `json:"secretKeyRef"`
	ConfigMapKeyRef *keyRef `json:"configMapKeyRef"`
	FieldRef        *struct {
		FieldPath string `json:"fieldPath"`
	} `json:"fieldRef"`
	ResourceFieldRef *struct {
		Resource string `json:"resource"`
	} `json:"resourceFieldRef"`
}

type keyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// presence records whether a JSON string value is set and not empty, without
// keeping it (an environment value may be a credential).
type presence bool

func (p *presence) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	*p = presence(s != `""` && s != "null")
	return nil
}

// Decode reads one Kubernetes JSON document: a List of Pods and
// ServiceAccounts (kubectl get pods,serviceaccounts -A -o json), a PodList,
// a ServiceAccountList, or a single Pod or ServiceAccount. Anything else is
// an error saying why.
func Decode(data []byte) (Decoded, error) {
	return DecodeReader(bytes.NewReader(data))
}

// DecodeReader is Decode over a stream: list items are decoded one at a
// time, so memory holds what the audit reads, not the document.
func DecodeReader(r io.Reader) (Decoded, error) {
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return Decoded{}, errors.New("empty file: expected Kubernetes JSON (kubectl get pods,serviceaccounts -A -o json)")
		}
		if err != nil {
			return Decoded{}, err
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' {
			br.ReadByte()
			continue
		}
		if b[0] != '{' {
			return Decoded{}, errors.New("not a JSON object: expected Kubernetes JSON (kubectl get pods,serviceaccounts -A -o json; YAML is not read)")
		}
		break
	}
	d, err := decodeStream(json.NewDecoder(br))
	if err != nil {
		return Decoded{}, err
	}
	return d, nil
}

// pendingItem is a list item without kind met before the list's own kind.
type pendingItem struct {
	index int
	obj   object
}

func decodeStream(dec *json.Decoder) (Decoded, error) {
	bad := func(err error) (Decoded, error) { return Decoded{}, fmt.Errorf("not Kubernetes JSON: %w", err) }
	if _, err := dec.Token(); err != nil { // the opening brace, checked by the caller
		return bad(err)
	}
	var (
		top     object
		d       Decoded
		itemErr error
		pending []pendingItem
	)
	addItem := func(i int, it *object) {
		kind := it.Kind
		if kind == "" {
			kind = listItemKind(top.Kind) // the API server leaves kind out of list items
		}
		if err := d.add(kind, it); err != nil && itemErr == nil {
			itemErr = fmt.Errorf("items[%d]: %w", i, err)
		}
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := t.(string)
		switch key {
		case "kind":
			err = dec.Decode(&top.Kind)
		case "metadata":
			err = dec.Decode(&top.Metadata)
		case "spec":
			err = dec.Decode(&top.Spec)
		case "items":
			err = decodeItems(dec, func(i int, it *object) {
				if it.Kind == "" && top.Kind == "" {
					pending = append(pending, pendingItem{i, *it})
					return
				}
				addItem(i, it)
			})
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return bad(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad(errors.New("data after the top-level object"))
	}
	switch top.Kind {
	case "List", "PodList", "ServiceAccountList":
		for i := range pending {
			addItem(pending[i].index, &pending[i].obj)
		}
		if itemErr != nil {
			return Decoded{}, itemErr
		}
		d.Continue = top.Metadata.Continue
		return d, nil
	case "Pod", "ServiceAccount":
		var one Decoded
		if err := one.add(top.Kind, &top); err != nil {
			return Decoded{}, err
		}
		return one, nil
	case "":
		return Decoded{}, errors.New("no kind: expected a List, PodList or ServiceAccountList (kubectl get pods,serviceaccounts -A -o json)")
	}
	return Decoded{}, fmt.Errorf("kind %s is not a pod or service-account list", top.Kind)
}

// decodeItems decodes the items array one element at a time.
func decodeItems(dec *json.Decoder, each func(int, *object)) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil // "items": null
	}
	if delim, ok := t.(json.Delim); !ok || delim != '[' {
		return errors.New("items is not an array")
	}
	for i := 0; dec.More(); i++ {
		var it object
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("items[%d]: %w", i, err)
		}
		each(i, &it)
	}
	_, err = dec.Token() // the closing bracket
	return err
}

// listItemKind is the kind of the items of a typed list ("" for List).
func listItemKind(listKind string) string {
	if listKind == "List" {
		return ""
	}
	return strings.TrimSuffix(listKind, "List")
}

func (d *Decoded) add(kind string, o *object) error {
	m := &o.Metadata
	if kind != "Pod" && kind != "ServiceAccount" {
		if kind == "" {
			return errors.New("item without kind in a List")
		}
		return fmt.Errorf("kind %s is not a Pod or ServiceAccount", kind)
	}
	if m.Name == "" || m.Namespace == "" {
		return fmt.Errorf("%s without metadata.name or metadata.namespace", kind)
	}
	if kind == "ServiceAccount" {
		d.ServiceAccounts = append(d.ServiceAccounts, ServiceAccount{
			Namespace: m.Namespace, Name: m.Name, IRSARole: strings.TrimSpace(m.Annotations.RoleARN),
		})
		return nil
	}
	p := Pod{
		Namespace: m.Namespace, Name: m.Name,
		ServiceAccount: firstNonEmpty(o.Spec.ServiceAccountName, o.Spec.ServiceAccount, "default"),
		HostNetwork:    o.Spec.HostNetwork,
		TemplateHash:   m.Labels.TemplateHash,
	}
	for i, r := range m.OwnerReferences {
		if i == 0 || (r.Controller != nil && *r.Controller) {
			p.Owner = Owner{Kind: r.Kind, Name: r.Name}
		}
		if r.Controller != nil && *r.Controller {
			break
		}
	}
	for _, cs := range [][]container{o.Spec.InitContainers, o.Spec.Containers, o.Spec.EphemeralContainers} {
		for _, c := range cs {
			for _, e := range c.Env {
				p.Env = append(p.Env, EnvVar{Container: c.Name, Name: e.Name, Source: envSource(e.Value, e.ValueFrom)})
			}
		}
	}
	d.Pods = append(d.Pods, p)
	return nil
}

func envSource(literal presence, from *valueFrom) string {
	switch {
	case from != nil && from.SecretKeyRef != nil:
		return "secretKeyRef " + from.SecretKeyRef.Name + "/" + from.SecretKeyRef.Key
	case from != nil && from.ConfigMapKeyRef != nil:
		return "configMapKeyRef " + from.ConfigMapKeyRef.Name + "/" + from.ConfigMapKeyRef.Key
	case from != nil && from.FieldRef != nil:
		return "fieldRef " + from.FieldRef.FieldPath
	case from != nil && from.ResourceFieldRef != nil:
		return "resourceFieldRef " + from.ResourceFieldRef.Resource
	case from != nil:
		return "valueFrom"
	case bool(literal):
		return "literal value"
	}
	return ""
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// DecodeAssociations reads the output of aws eks
// list-pod-identity-associations ({"associations":[…]}) or of
// describe-pod-identity-association ({"association":{…}}).
func DecodeAssociations(data []byte) ([]Association, error) {
	type assoc struct {
		Namespace      string `json:"namespace"`
		ServiceAccount string `json:"serviceAccount"`
		AssociationID  string `json:"associationId"`
		RoleARN        string `json:"roleArn"`
	}
	var doc struct {
		Associations *[]assoc `json:"associations"`
		Association  *assoc   `json:"association"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not the JSON of aws eks list-pod-identity-associations: %w", err)
	}
	var list []assoc
	switch {
	case doc.Associations != nil:
		list = *doc.Associations
	case doc.Association != nil:
		list = []assoc{*doc.Association}
	default:
		return nil, errors.New(`no "associations" key: expected the output of aws eks list-pod-identity-associations`)
	}
	out := make([]Association, 0, len(list))
	for i, a := range list {
		if a.Namespace == "" || a.ServiceAccount == "" {
			return nil, fmt.Errorf("associations[%d]: namespace and serviceAccount are required", i)
		}
		out = append(out, Association(a))
	}
	return out, nil
}
