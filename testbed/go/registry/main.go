// The windlass test bed's OCI registry: distribution's `registry` command with only
// the filesystem storage driver linked in. Upstream's cmd/registry also links the S3,
// GCS and Azure drivers and their SDKs, which the bed never uses and which make the
// cold build much slower.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
