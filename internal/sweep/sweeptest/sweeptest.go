// Package sweeptest plays the part of the sweep's state machine in tests:
// it reads the scopes the list step wrote, runs a per-scope function on each
// (in process or under the Lambda emulator), and writes the results to S3 in
// the layout of a Distributed Map's ResultWriter (manifest.json and one
// SUCCEEDED_0.json / FAILED_0.json file per status), returning the map's
// output as the summary step receives it.
package sweeptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ResultsPrefix is where the map's ResultWriter writes (sweep.ResultsPrefix).
const ResultsPrefix = "results"

// S3 lists the calls the helper makes.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Child is one child execution's end: its output, or its error and cause
// (Cause as Lambda reports a function error: {"errorMessage":…,"errorType":…}).
type Child struct {
	Output       []byte
	Error, Cause string
}

// ReadJSON decodes the object at bucket/key into v (the scopes the list
// step wrote, for example).
func ReadJSON(ctx context.Context, client S3, bucket, key string, v any) error {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(v); err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Map runs each item (a scope) through run and writes the ResultWriter
// files under ResultsPrefix/<runID>/ in bucket. It returns the manifest's key.
func Map[T any](ctx context.Context, client S3, bucket, runID string, items []T, run func(T) Child) (string, error) {
	type entry struct {
		ExecutionArn string `json:"ExecutionArn"`
		Input        string `json:"Input"`
		Name         string `json:"Name"`
		Output       string `json:"Output,omitempty"`
		Error        string `json:"Error,omitempty"`
		Cause        string `json:"Cause,omitempty"`
		Status       string `json:"Status"`
		StartDate    string `json:"StartDate"`
		StopDate     string `json:"StopDate"`
	}
	files := map[string][]entry{}
	for i, sc := range items {
		in, err := json.Marshal(sc)
		if err != nil {
			return "", err
		}
		start := time.Now().UTC().Format(time.RFC3339Nano)
		c := run(sc)
		e := entry{ExecutionArn: fmt.Sprintf("arn:aws:states:us-east-1:111122223333:execution:credguard-sweep/Map:%d", i),
			Input: string(in), Name: fmt.Sprint(i), StartDate: start, StopDate: time.Now().UTC().Format(time.RFC3339Nano)}
		if c.Error != "" {
			e.Status, e.Error, e.Cause = "FAILED", c.Error, c.Cause
		} else {
			e.Status, e.Output = "SUCCEEDED", string(c.Output)
		}
		files[e.Status] = append(files[e.Status], e)
	}
	prefix := ResultsPrefix + "/" + runID + "/"
	type file struct {
		Key  string `json:"Key"`
		Size int    `json:"Size"`
	}
	man := struct {
		DestinationBucket string            `json:"DestinationBucket"`
		MapRunArn         string            `json:"MapRunArn"`
		ResultFiles       map[string][]file `json:"ResultFiles"`
	}{DestinationBucket: bucket, MapRunArn: "arn:aws:states:us-east-1:111122223333:mapRun:credguard-sweep/Map:" + runID,
		ResultFiles: map[string][]file{"FAILED": {}, "PENDING": {}, "SUCCEEDED": {}}}
	for status, entries := range files {
		body, err := json.Marshal(entries)
		if err != nil {
			return "", err
		}
		key := prefix + status + "_0.json"
		if err := put(ctx, client, bucket, key, body); err != nil {
			return "", err
		}
		man.ResultFiles[status] = append(man.ResultFiles[status], file{Key: key, Size: len(body)})
	}
	body, err := json.Marshal(man)
	if err != nil {
		return "", err
	}
	if err := put(ctx, client, bucket, prefix+"manifest.json", body); err != nil {
		return "", err
	}
	return prefix + "manifest.json", nil
}

func put(ctx context.Context, client S3, bucket, key string, body []byte) error {
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
