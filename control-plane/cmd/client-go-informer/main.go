// Command client-go-informer is a real client-go program for gameday's tests: it runs a shared
// informer factory (list, then watch, with client-go's reflector and its resync) on pods and
// deployments of one namespace against whatever cluster the kubeconfig names, and prints one JSON
// line per event it delivers, so a test can drive the cluster and check what client-go saw.
//
// Usage: client-go-informer --kubeconfig FILE --namespace NS [--for 60s]
// Output: {"synced":true,...} once the caches are filled, then {"kind","event","name",...} lines.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

type line struct {
	Kind      string `json:"kind,omitempty"`
	Event     string `json:"event,omitempty"`
	Name      string `json:"name,omitempty"`
	Phase     string `json:"phase,omitempty"`
	Ready     *int32 `json:"ready,omitempty"`
	Synced    bool   `json:"synced,omitempty"`
	Server    string `json:"server,omitempty"`
	Version   string `json:"version,omitempty"`
	Terminate bool   `json:"terminating,omitempty"`
}

var out = json.NewEncoder(os.Stdout)

func emit(l line) {
	if err := out.Encode(l); err != nil {
		os.Exit(3)
	}
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	namespace := flag.String("namespace", "default", "namespace to watch")
	runFor := flag.Duration("for", 60*time.Second, "how long to run")
	flag.Parse()

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig: %v\n", err)
		os.Exit(2)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(2)
	}
	version, err := client.Discovery().ServerVersion()
	if err != nil {
		fmt.Fprintf(os.Stderr, "discovery: %v\n", err)
		os.Exit(1)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(client, 30*time.Second, informers.WithNamespace(*namespace))
	pods := factory.Core().V1().Pods().Informer()
	deployments := factory.Apps().V1().Deployments().Informer()
	podLine := func(event string, obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			emit(line{Kind: "Pod", Event: event, Name: p.Name, Phase: string(p.Status.Phase), Terminate: p.DeletionTimestamp != nil})
		}
	}
	deploymentLine := func(event string, obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if d, ok := obj.(*appsv1.Deployment); ok {
			ready := d.Status.ReadyReplicas
			emit(line{Kind: "Deployment", Event: event, Name: d.Name, Ready: &ready})
		}
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { podLine("add", o) },
		UpdateFunc: func(_, o interface{}) { podLine("update", o) },
		DeleteFunc: func(o interface{}) { podLine("delete", o) },
	})
	_, _ = deployments.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { deploymentLine("add", o) },
		UpdateFunc: func(_, o interface{}) { deploymentLine("update", o) },
		DeleteFunc: func(o interface{}) { deploymentLine("delete", o) },
	})

	stop := make(chan struct{})
	factory.Start(stop)
	for kind, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			fmt.Fprintf(os.Stderr, "cache of %v never synced\n", kind)
			os.Exit(1)
		}
	}
	emit(line{Synced: true, Server: config.Host, Version: version.GitVersion})
	time.Sleep(*runFor)
	close(stop)
}
