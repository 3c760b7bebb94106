package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// XML namespaces of the query-protocol services' responses.
const (
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"
	cfnNamespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

	organizationsTargetPrefix  = "AWSOrganizationsV20161128."
	secretsManagerTargetPrefix = "secretsmanager."
)

// protocol is the wire protocol a service speaks.
type protocol int

const (
	protoEC2Query protocol = iota // form POST, XML in the EC2 namespace
	protoAWSQuery                 // form POST, <XResponse><XResult>
	protoRESTJSON                 // path routes, JSON bodies, x-amzn-errortype
	protoAWSJSON                  // X-Amz-Target, JSON bodies
)

func serviceProtocol(service string) (protocol, bool) {
	switch service {
	case "ec2":
		return protoEC2Query, true
	case "iam", "sts", "sns", "cloudformation":
		return protoAWSQuery, true
	case "eks":
		return protoRESTJSON, true
	case "organizations", "secretsmanager":
		return protoAWSJSON, true
	}
	return 0, false
}

func queryNamespace(service string) string {
	switch service {
	case "iam":
		return iamNamespace
	case "sts":
		return stsNamespace
	case "cloudformation":
		return cfnNamespace
	default:
		return snsNamespace
	}
}

// apiError is an AWS error answered in the service's own error format.
type apiError struct {
	Code    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// statusForCode is the HTTP status AWS answers an error code with; codes the
// table does not know are client errors (400).
func statusForCode(code string) int {
	switch code {
	case "InternalError", "InternalFailure", "ServiceFailure", "ServerException", "ServiceException", "InternalServerError":
		return http.StatusInternalServerError
	case "ServiceUnavailable", "Unavailable", "ServiceUnavailableException", "RequestLimitExceeded":
		return http.StatusServiceUnavailable
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
		"InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken", "ExpiredToken":
		return http.StatusForbidden
	case "AuthFailure":
		return http.StatusUnauthorized
	case "ThrottlingException", "Throttled":
		return http.StatusTooManyRequests
	case "NoSuchEntity", "ResourceNotFoundException", "NotFound", "NotFoundException":
		return http.StatusNotFound
	case "LimitExceeded", "EntityAlreadyExists", "ConcurrentModification":
		return http.StatusConflict
	case "DryRunOperation":
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
}

// throttleCode is the error each service answers when a request is throttled.
func throttleCode(service string) (string, int) {
	switch service {
	case "ec2":
		return "RequestLimitExceeded", http.StatusServiceUnavailable
	case "eks":
		return "ThrottlingException", http.StatusTooManyRequests
	case "organizations":
		return "TooManyRequestsException", http.StatusBadRequest
	default:
		return "Throttling", http.StatusBadRequest
	}
}

// unknownOperation is the error for an operation the sandbox does not serve.
func unknownOperation(service, op string) *apiError {
	switch service {
	case "ec2", "iam", "sts", "sns", "cloudformation":
		return newError(http.StatusBadRequest, "InvalidAction",
			"The action %s is not valid for this web service (the credguard sandbox serves only the operations listed in its FIXTURE.md).", op)
	case "eks":
		return newError(http.StatusNotFound, "UnknownOperationException",
			"The credguard sandbox does not serve %s for eks.", op)
	default:
		return newError(http.StatusBadRequest, "UnknownOperationException",
			"The credguard sandbox does not serve %s for %s.", op, service)
	}
}

// ec2Response is embedded in every EC2 result: EC2 puts the request id in the body.
type ec2Response struct {
	RequestID string `xml:"requestId"`
}

func (e *ec2Response) setRequestID(id string) { e.RequestID = id }

type ec2Result interface{ setRequestID(string) }

// items is an EC2 list: <name><item>…</item></name>, present even when empty.
type items[T any] struct {
	Items []T `xml:"item"`
}

// members is a query-protocol list: <Name><member>…</member></Name>.
type members[T any] struct {
	Members []T `xml:"member"`
}

// writeResult answers a successful call in the service's protocol.
func writeResult(w http.ResponseWriter, service, op, requestID string, result any) {
	proto, _ := serviceProtocol(service)
	w.Header().Set("x-amzn-RequestId", requestID)
	switch proto {
	case protoEC2Query, protoAWSQuery:
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(&buf)
		var err error
		if proto == protoEC2Query {
			if r, ok := result.(ec2Result); ok {
				r.setRequestID(requestID)
			}
			err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Space: ec2Namespace, Local: op + "Response"}})
		} else {
			fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, op, queryNamespace(service))
			if result != nil {
				err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
			}
			if err == nil {
				err = enc.Flush()
			}
			fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, requestID, op)
		}
		if err == nil {
			err = enc.Flush()
		}
		if err != nil {
			writeError(w, service, requestID, newError(http.StatusInternalServerError, "InternalError", "encode response: %v", err))
			return
		}
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		w.Write(buf.Bytes())
	default:
		body, err := json.Marshal(result)
		if err != nil {
			writeError(w, service, requestID, newError(http.StatusInternalServerError, "InternalError", "encode response: %v", err))
			return
		}
		if proto == protoAWSJSON {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
}

// writeError answers an error in the service's error format.
func writeError(w http.ResponseWriter, service, requestID string, e *apiError) {
	w.Header().Set("x-amzn-RequestId", requestID)
	proto, ok := serviceProtocol(service)
	if !ok {
		proto = protoAWSQuery
	}
	var body []byte
	switch proto {
	case protoEC2Query:
		body = fmt.Appendf(nil, "%s<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>",
			xml.Header, xmlText(e.Code), xmlText(e.Message), requestID)
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	case protoAWSQuery:
		fault := "Sender"
		if e.Status >= 500 {
			fault = "Receiver"
		}
		ns := iamNamespace
		if service != "" {
			ns = queryNamespace(service)
		}
		body = fmt.Appendf(nil, `%s<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xml.Header, ns, fault, xmlText(e.Code), xmlText(e.Message), requestID)
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	case protoRESTJSON:
		w.Header().Set("x-amzn-ErrorType", e.Code)
		body, _ = json.Marshal(map[string]string{"message": e.Message})
		w.Header().Set("Content-Type", "application/json")
	case protoAWSJSON:
		w.Header().Set("x-amzn-ErrorType", e.Code)
		body, _ = json.Marshal(map[string]string{"__type": e.Code, "Message": e.Message})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// params reads query-protocol parameters (Name, List.1, Map.entry.1.Name…).
type params struct{ url.Values }

func (p params) str(name string) string { return p.Get(name) }

func (p params) has(name string) bool {
	_, ok := p.Values[name]
	return ok
}

// int parses an optional integer parameter.
func (p params) int(name string) (n int, set bool, err *apiError) {
	v, ok := p.Values[name]
	if !ok {
		return 0, false, nil
	}
	n, perr := strconv.Atoi(strings.TrimSpace(v[0]))
	if perr != nil {
		return 0, true, newError(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected an integer.", v[0], name)
	}
	return n, true, nil
}

func (p params) bool(name string) bool { return strings.EqualFold(p.Get(name), "true") }

// indexed returns the numbered sub-keys of prefix: for "InstanceId" it maps
// 1 → "" for InstanceId.1; for "Filter" and Filter.1.Name it maps 1 → "Name".
// The result lists the indexes in ascending order.
func (p params) indexes(prefix string) []int {
	seen := map[int]bool{}
	pre := prefix + "."
	for k := range p.Values {
		rest, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i > 0 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// list reads a flattened list: prefix.1, prefix.2, …
func (p params) list(prefix string) []string {
	var out []string
	for _, i := range p.indexes(prefix) {
		if v, ok := p.Values[prefix+"."+strconv.Itoa(i)]; ok {
			out = append(out, v[0])
		}
	}
	return out
}

type filter struct {
	name   string
	values []string
}

// filters reads EC2 filters: Filter.N.Name and Filter.N.Value.M.
func (p params) filters() ([]filter, *apiError) {
	var out []filter
	for _, i := range p.indexes("Filter") {
		pre := "Filter." + strconv.Itoa(i)
		name := p.Get(pre + ".Name")
		if name == "" {
			return nil, newError(http.StatusBadRequest, "InvalidParameterValue", "The filter %s has no Name.", pre)
		}
		out = append(out, filter{name: name, values: p.list(pre + ".Value")})
	}
	return out, nil
}

type tag struct{ Key, Value string }

// queryTags reads Tags.member.N.Key/Value (IAM) into a list.
func (p params) queryTags(prefix string) []tag {
	var out []tag
	for _, i := range p.indexes(prefix) {
		pre := prefix + "." + strconv.Itoa(i)
		out = append(out, tag{Key: p.Get(pre + ".Key"), Value: p.Get(pre + ".Value")})
	}
	return out
}

// pageToken encodes the key a page continues from; the same key decodes back.
func pageToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("sandbox:" + key))
}

func parsePageToken(tok string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(raw), "sandbox:")
}

// pageStart is the index in sorted keys where a page continues (0 without a
// token); ok is false for a token the sandbox did not issue.
func pageStart(sortedKeys []string, tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	key, ok := parsePageToken(tok)
	if !ok {
		return 0, false
	}
	return sort.SearchStrings(sortedKeys, key), true
}

// percentEncode encodes a policy document the way IAM returns it: every byte
// but the unreserved characters (A–Z a–z 0–9 - _ . ~) as %XX, so a space is
// %20 and a plus %2B. url.PathUnescape restores the document exactly.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// isoTime formats a time as AWS's XML responses do.
const isoTime = "2006-01-02T15:04:05.000Z"
