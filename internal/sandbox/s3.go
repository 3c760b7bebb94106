package sandbox

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// S3 in the sandbox: CreateBucket, PutObject, GetObject and ListObjectsV2
// over S3's REST-XML protocol, for the scheduled sweep's bucket. Buckets
// belong to the account that created them and answer that account alone.
// Requests may address the bucket path-style (http://127.0.0.1:PORT/bucket/key,
// what the SDKs send to an IP address) or virtual-hosted style
// (http://bucket.localhost:PORT/key). Objects live in memory; Reset empties
// the buckets.

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

type s3Bucket struct {
	owner   string
	region  string
	created time.Time
	objects map[string]s3Object
}

type s3Object struct {
	body        []byte
	etag        string
	contentType string
	modified    time.Time
}

// s3Operations are the S3 operations served (fault keys s3:<Operation>).
var s3Operations = map[string]bool{"CreateBucket": true, "PutObject": true, "GetObject": true, "HeadObject": true, "ListObjectsV2": true}

// s3BucketRe is S3's bucket naming rule (general purpose buckets).
var s3BucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// serveS3 answers one S3 request (routed here by the SigV4 scope's service).
func (s *Server) serveS3(w http.ResponseWriter, hr *http.Request, akid, region, requestID string) {
	r := &request{service: "s3", region: region, requestID: requestID}
	s.mu.Lock()
	r.id = s.identify(akid)
	faults := s.faults
	s.mu.Unlock()

	bucket, key := s3Address(hr)
	op, aerr := s3Operation(hr, bucket, key)
	r.op, r.resource = op, strings.TrimSuffix(bucket+"/"+key, "/")
	write := op == "PutObject" || op == "CreateBucket"
	if aerr != nil {
		s.record(r, write, aerr.Code)
		writeS3Error(w, requestID, aerr, bucket, key)
		return
	}
	fk := "s3:" + op
	if d := faults.latency(fk); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
			s.record(r, write, "canceled")
			return
		}
	}
	if !faults.allow(fk, r.account(), region, time.Now()) {
		aerr = newError(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	} else if f, inject := faults.inject(fk, r.account()); inject {
		status := f.Status
		if status == 0 {
			status = statusForCode(f.Code)
		}
		aerr = newError(status, f.Code, "injected fault: %s answers %s", fk, f.Code)
	}
	if aerr != nil {
		s.record(r, write, aerr.Code)
		writeS3Error(w, requestID, aerr, bucket, key)
		return
	}
	var body []byte
	if op == "PutObject" || op == "CreateBucket" {
		var err error
		if body, err = s3Body(hr); err != nil {
			aerr = newError(http.StatusBadRequest, "IncompleteBody", "read request body: %v", err)
			s.record(r, write, aerr.Code)
			writeS3Error(w, requestID, aerr, bucket, key)
			return
		}
	}
	s.mu.Lock()
	if s.buckets == nil {
		s.buckets = map[string]*s3Bucket{}
	}
	resp, aerr := s.s3Handle(r, op, hr, bucket, key, body)
	s.mu.Unlock()
	if aerr != nil {
		s.record(r, write, aerr.Code)
		writeS3Error(w, requestID, aerr, bucket, key)
		return
	}
	s.record(r, write, "ok")
	w.Header().Set("x-amz-request-id", requestID)
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	w.WriteHeader(http.StatusOK)
	if hr.Method != http.MethodHead {
		w.Write(resp.body)
	}
}

type s3Response struct {
	header map[string]string
	body   []byte
}

// s3Address finds the bucket and key: virtual-hosted style when the host is
// <bucket>.localhost, else path-style (/bucket/key).
func s3Address(hr *http.Request) (bucket, key string) {
	host := hr.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := hr.URL.Path
	if b, ok := strings.CutSuffix(strings.ToLower(host), ".localhost"); ok && b != "" {
		return b, strings.TrimPrefix(path, "/")
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// s3Operation names the operation from the method, address and query.
func s3Operation(hr *http.Request, bucket, key string) (string, *apiError) {
	q := hr.URL.Query()
	q.Del("x-id") // the Go SDK names the operation in the query
	switch {
	case bucket == "":
		return hr.Method + " /", newError(http.StatusNotImplemented, "NotImplemented", "the credguard sandbox serves CreateBucket, PutObject, GetObject and ListObjectsV2 only")
	case key == "" && hr.Method == http.MethodPut && len(q) == 0:
		return "CreateBucket", nil
	case key == "" && hr.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2", nil
	case key != "" && hr.Method == http.MethodPut && hr.Header.Get("x-amz-copy-source") == "" && len(q) == 0:
		return "PutObject", nil
	case key != "" && (hr.Method == http.MethodGet || hr.Method == http.MethodHead) && !q.Has("tagging") && !q.Has("acl") && !q.Has("attributes"):
		if hr.Method == http.MethodHead {
			return "HeadObject", nil
		}
		return "GetObject", nil
	}
	return hr.Method + " " + hr.URL.Path, newError(http.StatusNotImplemented, "NotImplemented",
		"the credguard sandbox serves CreateBucket, PutObject, GetObject, HeadObject and ListObjectsV2 only (got %s %s?%s)", hr.Method, hr.URL.Path, hr.URL.RawQuery)
}

// s3Body reads the payload, decoding aws-chunked bodies (streaming
// signatures and trailing checksums) to the object's bytes.
func s3Body(hr *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxBody {
		return nil, fmt.Errorf("over %d bytes", maxBody)
	}
	sha := hr.Header.Get("X-Amz-Content-Sha256")
	if !strings.Contains(hr.Header.Get("Content-Encoding"), "aws-chunked") && !strings.HasPrefix(sha, "STREAMING-") {
		return raw, nil
	}
	var out bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(raw))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || n < 0 || n > maxBody {
			return nil, fmt.Errorf("aws-chunked: bad chunk size %q", sizeHex)
		}
		if n == 0 {
			return out.Bytes(), nil // trailers (checksums) follow; not verified
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		if crlf, err := br.ReadString('\n'); err != nil || strings.TrimSpace(crlf) != "" {
			return nil, errors.New("aws-chunked: chunk not followed by CRLF")
		}
	}
}

// s3Handle runs the operation. Holds s.mu.
func (s *Server) s3Handle(r *request, op string, hr *http.Request, bucket, key string, body []byte) (s3Response, *apiError) {
	if op == "CreateBucket" {
		return s.s3CreateBucket(r, bucket)
	}
	b := s.buckets[bucket]
	if b == nil {
		return s3Response{}, newError(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	}
	if b.owner != r.account() {
		return s3Response{}, newError(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	switch op {
	case "PutObject":
		sum := md5.Sum(body)
		obj := s3Object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`, contentType: hr.Header.Get("Content-Type"), modified: time.Now().UTC()}
		if obj.contentType == "" {
			obj.contentType = "binary/octet-stream"
		}
		b.objects[key] = obj
		return s3Response{header: map[string]string{"ETag": obj.etag}}, nil
	case "GetObject", "HeadObject":
		obj, ok := b.objects[key]
		if !ok {
			if op == "HeadObject" {
				return s3Response{}, newError(http.StatusNotFound, "NotFound", "Not Found")
			}
			return s3Response{}, newError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		}
		h := map[string]string{"ETag": obj.etag, "Content-Type": obj.contentType,
			"Last-Modified": obj.modified.Format(http.TimeFormat), "Accept-Ranges": "bytes"}
		if op == "HeadObject" {
			h["Content-Length"] = strconv.Itoa(len(obj.body))
			return s3Response{header: h}, nil
		}
		return s3Response{header: h, body: obj.body}, nil
	}
	return s.s3ListObjectsV2(b, bucket, hr.URL.Query())
}

func (s *Server) s3CreateBucket(r *request, bucket string) (s3Response, *apiError) {
	if !s3BucketRe.MatchString(bucket) || strings.Contains(bucket, "..") {
		return s3Response{}, newError(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	}
	if b := s.buckets[bucket]; b != nil {
		if b.owner == r.account() {
			return s3Response{}, newError(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
		}
		return s3Response{}, newError(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available.")
	}
	s.buckets[bucket] = &s3Bucket{owner: r.account(), region: r.region, created: time.Now().UTC(), objects: map[string]s3Object{}}
	return s3Response{header: map[string]string{"Location": "/" + bucket}}, nil
}

type s3ListResult struct {
	XMLName               xml.Name         `xml:"ListBucketResult"`
	Xmlns                 string           `xml:"xmlns,attr"`
	Name                  string           `xml:"Name"`
	Prefix                string           `xml:"Prefix"`
	Delimiter             string           `xml:"Delimiter,omitempty"`
	MaxKeys               int              `xml:"MaxKeys"`
	KeyCount              int              `xml:"KeyCount"`
	IsTruncated           bool             `xml:"IsTruncated"`
	ContinuationToken     string           `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string           `xml:"NextContinuationToken,omitempty"`
	StartAfter            string           `xml:"StartAfter,omitempty"`
	EncodingType          string           `xml:"EncodingType,omitempty"`
	Contents              []s3ListEntry    `xml:"Contents"`
	CommonPrefixes        []s3CommonPrefix `xml:"CommonPrefixes"`
}

type s3ListEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type s3CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// s3ListObjectsV2 lists keys in UTF-8 order with prefix, delimiter,
// start-after, max-keys and continuation tokens (the last key returned).
func (s *Server) s3ListObjectsV2(b *s3Bucket, bucket string, q url.Values) (s3Response, *apiError) {
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3Response{}, newError(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return s3Response{}, newError(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	after := q.Get("start-after")
	token := q.Get("continuation-token")
	if token != "" {
		t, err := hex.DecodeString(token)
		if err != nil {
			return s3Response{}, newError(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(t)
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	escape := func(v string) string {
		if enc == "url" {
			return url.QueryEscape(v)
		}
		return v
	}
	res := s3ListResult{Xmlns: s3Namespace, Name: bucket, Prefix: escape(prefix), Delimiter: escape(delim), MaxKeys: maxKeys,
		ContinuationToken: token, StartAfter: escape(q.Get("start-after")), EncodingType: enc}
	seen := map[string]bool{}
	last := ""
	for _, k := range keys {
		if res.KeyCount == maxKeys {
			res.IsTruncated = true
			res.NextContinuationToken = hex.EncodeToString([]byte(last))
			break
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				last = cp + "\xff" // after every key under cp: no UTF-8 byte is 0xff
				if !seen[cp] {
					seen[cp] = true
					res.CommonPrefixes = append(res.CommonPrefixes, s3CommonPrefix{Prefix: escape(cp)})
					res.KeyCount++
				}
				continue
			}
		}
		o := b.objects[k]
		res.Contents = append(res.Contents, s3ListEntry{Key: escape(k), LastModified: o.modified.Format("2006-01-02T15:04:05.000Z"),
			ETag: o.etag, Size: len(o.body), StorageClass: "STANDARD"})
		res.KeyCount++
		last = k
	}
	out, err := xml.Marshal(res)
	if err != nil {
		return s3Response{}, newError(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	return s3Response{header: map[string]string{"Content-Type": "application/xml"}, body: append([]byte(xml.Header), out...)}, nil
}

func writeS3Error(w http.ResponseWriter, requestID string, e *apiError, bucket, key string) {
	extra := ""
	switch e.Code {
	case "NoSuchKey":
		extra = "<Key>" + xmlText(key) + "</Key>"
	case "NoSuchBucket", "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "InvalidBucketName":
		extra = "<BucketName>" + xmlText(bucket) + "</BucketName>"
	}
	body := fmt.Appendf(nil, "%s<Error><Code>%s</Code><Message>%s</Message>%s<RequestId>%s</RequestId></Error>",
		xml.Header, xmlText(e.Code), xmlText(e.Message), extra, requestID)
	w.Header().Set("x-amz-request-id", requestID)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}
