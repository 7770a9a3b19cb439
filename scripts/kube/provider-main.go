// Entry point for the Pulumi Kubernetes provider built by ensure-kube.sh.
//
// The published Go module github.com/pulumi/pulumi-kubernetes/provider/v4 ships the
// provider's schema.json and terraform-mapping.json, but its own main embeds files that its
// release build generates (schema-embed.json, terraform-mapping-embed.json) and that are not
// in the module zip. This main embeds the two files from the zip (ensure-kube.sh copies them
// next to it), stamps the release version into the schema, and serves the provider.
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
)

// version is the provider release this module version corresponds to (set with -ldflags -X).
var version = "4.25.0"

//go:embed schema.json
var schemaJSON []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

// versionedSchema returns the schema with its top-level "version" set, as upstream's
// generate step does; the rest of the document is passed through unchanged.
func versionedSchema(schema []byte, v string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, fmt.Errorf("schema.json: %w", err)
	}
	quoted, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	doc["version"] = quoted
	return json.Marshal(doc)
}

func main() {
	schema, err := versionedSchema(schemaJSON, version)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v\n", err)
		os.Exit(1)
	}
	provider.Serve("kubernetes", version, schema, terraformMapping)
}
