// Command etcd is upstream etcd's server, built at the version k8s.io/kubernetes
// itself depends on, so the control plane and its store come from one module graph.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
