// Command driver is the swift-cni integration-test driver: a small
// cnitool-like program that drives CNI plugins through libcni, the library
// container runtimes (containerd, CRI-O, podman) use.
//
// Usage:
//
//	driver add|check|del <network-name> <netns-path>
//	driver gc <network-name> [containerID/ifname ...]
//	driver status <network-name>
//
// Environment:
//
//	NETCONFPATH     directory holding the conflists (default /etc/cni/net.d)
//	CNI_PATH        plugin search path, ':'-separated (first match wins)
//	CNI_CONTAINERID container ID (default derived from the netns path)
//	CNI_IFNAME      interface name (default eth0)
//	CNI_ARGS        passed through ("K=V;K2=V2")
//	CAP_ARGS        runtimeConfig capability args as JSON, e.g. {"ips":["10.1.2.3/24"]}
//	CNI_CACHE_DIR   libcni result cache directory (default /var/lib/cni)
//	DRIVER_TIMEOUT  per-command timeout in seconds (default 60)
//
// ADD prints the result JSON on stdout. On failure the driver exits 1 and
// prints a human-readable line and then, as the last stderr line, a JSON
// object {"code":N,"msg":...,"details":...} (code omitted when the failure
// is not a CNI error).
//
// libcni v1.1.2 (Debian) predates GC and STATUS (CNI spec 1.1.0). The driver
// implements them the way libcni v1.2 does, built from libcni's pieces, with
// two deliberate differences: the plugins always receive cniVersion "1.1.0"
// (the version that defines these verbs; libcni 1.1.2 cannot ADD a 1.1.0
// conflist), and gc does not first DEL stale cached attachments, so that the
// plugin's own GC is what gets tested.
package main

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

const gcStatusVersion = "1.1.0"

func usage() {
	fmt.Fprintf(os.Stderr, `usage:
  %[1]s add|check|del <network-name> <netns-path>
  %[1]s gc <network-name> [containerID/ifname ...]
  %[1]s status <network-name>
`, filepath.Base(os.Args[0]))
	os.Exit(2)
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "driver: %s: %v\n", what, err)
	out := map[string]interface{}{"msg": err.Error()}
	var cniErr *types.Error
	if errors.As(err, &cniErr) {
		out["code"] = cniErr.Code
		out["msg"] = cniErr.Msg
		if cniErr.Details != "" {
			out["details"] = cniErr.Details
		}
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(os.Stderr, string(b))
	os.Exit(1)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func parseCNIArgs(s string) ([][2]string, error) {
	var out [][2]string
	if s == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ";") {
		kv := strings.SplitN(pair, "=", 2)
		if len(kv) != 2 {
			return nil, fmt.Errorf("invalid CNI_ARGS pair %q", pair)
		}
		out = append(out, [2]string{kv[0], kv[1]})
	}
	return out, nil
}

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	cmd, netName := os.Args[1], os.Args[2]

	list, err := libcni.LoadConfList(env("NETCONFPATH", "/etc/cni/net.d"), netName)
	if err != nil {
		fail("loading network config", err)
	}

	timeout := 60
	if t, err := strconv.Atoi(env("DRIVER_TIMEOUT", "60")); err == nil && t > 0 {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()

	path := filepath.SplitList(os.Getenv("CNI_PATH"))
	exec := &invoke.DefaultExec{
		RawExec:       &invoke.RawExec{Stderr: os.Stderr},
		PluginDecoder: version.PluginDecoder{},
	}
	cni := libcni.NewCNIConfigWithCacheDir(path, os.Getenv("CNI_CACHE_DIR"), exec)

	switch cmd {
	case "add", "check", "del":
		if len(os.Args) != 4 {
			usage()
		}
		netns := os.Args[3]
		if abs, err := filepath.Abs(netns); err == nil {
			netns = abs
		}
		rt := &libcni.RuntimeConf{
			ContainerID: env("CNI_CONTAINERID", defaultContainerID(netns)),
			NetNS:       netns,
			IfName:      env("CNI_IFNAME", "eth0"),
		}
		if rt.Args, err = parseCNIArgs(os.Getenv("CNI_ARGS")); err != nil {
			fail("parsing CNI_ARGS", err)
		}
		if capArgs := os.Getenv("CAP_ARGS"); capArgs != "" {
			if err := json.Unmarshal([]byte(capArgs), &rt.CapabilityArgs); err != nil {
				fail("parsing CAP_ARGS", err)
			}
		}
		switch cmd {
		case "add":
			result, err := cni.AddNetworkList(ctx, list, rt)
			if err != nil {
				fail("add", err)
			}
			if err := result.Print(); err != nil {
				fail("printing result", err)
			}
			fmt.Println()
		case "check":
			if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
				fail("check", err)
			}
		case "del":
			if err := cni.DelNetworkList(ctx, list, rt); err != nil {
				fail("del", err)
			}
		}
	case "gc":
		valid := []map[string]string{}
		for _, a := range os.Args[3:] {
			i := strings.LastIndex(a, "/")
			if i <= 0 || i == len(a)-1 {
				fail("parsing attachment", fmt.Errorf("%q is not containerID/ifname", a))
			}
			valid = append(valid, map[string]string{"containerID": a[:i], "ifname": a[i+1:]})
		}
		if err := gcNetworkList(ctx, path, exec, list, valid); err != nil {
			fail("gc", err)
		}
	case "status":
		if len(os.Args) != 3 {
			usage()
		}
		if err := statusNetworkList(ctx, path, exec, list); err != nil {
			fail("status", err)
		}
	default:
		usage()
	}
}

// defaultContainerID mirrors cnitool: a stable ID derived from the netns path.
func defaultContainerID(netns string) string {
	return fmt.Sprintf("driver-%x", sha512.Sum512([]byte(netns)))[:len("driver-")+20]
}

func verbArgs(command string, path []string) *invoke.Args {
	return &invoke.Args{
		Command:    command,
		PluginArgs: [][2]string{},
		Path:       strings.Join(path, string(os.PathListSeparator)),
	}
}

// gcNetworkList follows libcni v1.2 GCNetworkList (minus the cache-driven DELs):
// every plugin of the list gets CNI_COMMAND=GC with cni.dev/valid-attachments.
func gcNetworkList(ctx context.Context, path []string, exec invoke.Exec, list *libcni.NetworkConfigList, valid []map[string]string) error {
	var errs []string
	var first error
	for _, plugin := range list.Plugins {
		conf, err := libcni.InjectConf(plugin, map[string]interface{}{
			"name":                      list.Name,
			"cniVersion":                gcStatusVersion,
			"cni.dev/valid-attachments": valid,
		})
		if err != nil {
			return err
		}
		pluginPath, err := exec.FindInPath(plugin.Network.Type, path)
		if err == nil {
			err = invoke.ExecPluginWithoutResult(ctx, pluginPath, conf.Bytes, verbArgs("GC", path), exec)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			errs = append(errs, fmt.Sprintf("plugin type=%q failed (gc): %v", plugin.Network.Type, err))
		}
	}
	if first != nil {
		var cniErr *types.Error
		if errors.As(first, &cniErr) {
			return &types.Error{Code: cniErr.Code, Msg: strings.Join(errs, "; "), Details: cniErr.Details}
		}
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// statusNetworkList follows libcni v1.2 GetStatusNetworkList: the first
// plugin that reports an error ends it.
func statusNetworkList(ctx context.Context, path []string, exec invoke.Exec, list *libcni.NetworkConfigList) error {
	for _, plugin := range list.Plugins {
		conf, err := libcni.InjectConf(plugin, map[string]interface{}{
			"name":       list.Name,
			"cniVersion": gcStatusVersion,
		})
		if err != nil {
			return err
		}
		pluginPath, err := exec.FindInPath(plugin.Network.Type, path)
		if err != nil {
			return err
		}
		if err := invoke.ExecPluginWithoutResult(ctx, pluginPath, conf.Bytes, verbArgs("STATUS", path), exec); err != nil {
			return fmt.Errorf("plugin type=%q failed (status): %w", plugin.Network.Type, err)
		}
	}
	return nil
}
