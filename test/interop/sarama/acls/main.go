// Command sarama-acls drives sarama 1.22.1's ACL administration (Debian golang-github-shopify-sarama-dev)
// for test/interop/acls.test.ts, logged in with SASL/PLAIN. It prints one JSON line per sarama call,
// {"step": name, "err": code, ...}: err is the Kafka error code sarama returned (0: none, -1: an error sarama
// made itself, its text in "msg").
//
// sarama 1.22.1's ClusterAdmin always sends CreateAcls, DescribeAcls and DeleteAcls at v0, which has no
// pattern type: the broker reads every binding and filter as LITERAL, and sarama decodes the pattern type of
// what comes back as 0 (unknown). ClusterAdmin also drops the per-creation and per-filter error codes, so the
// denied subcommand repeats each call on the controller's sarama.Broker to show the codes the broker sent.
//
// Subcommands:
//
//	admin   creates two ACLs for -principal (READ on topic <prefix>-topic, a DENY of DESCRIBE on group
//	        <prefix>-group), lists that principal's ACLs, deletes the topic one and lists again.
//	denied  the same calls from a user who may not administer ACLs: what ClusterAdmin returns, then the error
//	        codes in the responses themselves.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Shopify/sarama"
)

type step map[string]interface{}

var out = json.NewEncoder(os.Stdout)

func emit(name string, err error, fields step) {
	line := step{"step": name}
	for k, v := range fields {
		line[k] = v
	}
	switch e := err.(type) {
	case nil:
		line["err"] = 0
	case sarama.KError:
		line["err"] = int(e)
	default:
		line["err"] = -1
		line["msg"] = err.Error()
	}
	_ = out.Encode(line)
}

type options struct {
	bootstrap string
	user      string
	password  string
	prefix    string
	principal string
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-acls admin|denied [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	user := fs.String("user", "", "SASL/PLAIN user name")
	password := fs.String("password", "", "SASL/PLAIN password")
	prefix := fs.String("prefix", "sarama-acl", "resource name prefix")
	principal := fs.String("principal", "User:sarama", "principal of the ACLs")
	if err := fs.Parse(os.Args[2:]); err != nil {
		fatal(err.Error())
	}
	opts := options{*bootstrap, *user, *password, *prefix, *principal}

	admin, err := sarama.NewClusterAdmin([]string{opts.bootstrap}, newConfig(opts))
	emit("cluster-admin", err, nil)
	if err != nil {
		os.Exit(3)
	}
	defer admin.Close()
	switch os.Args[1] {
	case "admin":
		administer(admin, opts)
	case "denied":
		denied(admin, opts)
	default:
		fatal("unknown subcommand " + os.Args[1])
	}
}

func newConfig(opts options) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-acls"
	// At least 0.11, which the ACL requests need; also the version whose Metadata names the controller.
	config.Version = sarama.V2_0_0_0
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Net.SASL.Enable = true
	config.Net.SASL.Handshake = true
	config.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	config.Net.SASL.User = opts.user
	config.Net.SASL.Password = opts.password
	config.Metadata.Retry.Max = 2
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	return config
}

func strPtr(s string) *string { return &s }

// binding flattens one ACL as sarama decoded it: type, name, pattern type, principal, host, operation, permission.
func binding(resource sarama.Resource, acl sarama.Acl) []interface{} {
	return []interface{}{
		int(resource.ResourceType), resource.ResourceName, int(resource.ResoucePatternType),
		acl.Principal, acl.Host, int(acl.Operation), int(acl.PermissionType),
	}
}

func listed(resources []sarama.ResourceAcls) [][]interface{} {
	bindings := [][]interface{}{}
	for _, resource := range resources {
		for _, acl := range resource.Acls {
			bindings = append(bindings, binding(resource.Resource, *acl))
		}
	}
	return bindings
}

func principalFilter(opts options) sarama.AclFilter {
	return sarama.AclFilter{
		ResourceType:   sarama.AclResourceAny,
		Principal:      strPtr(opts.principal),
		Operation:      sarama.AclOperationAny,
		PermissionType: sarama.AclPermissionAny,
	}
}

func administer(admin sarama.ClusterAdmin, opts options) {
	err := admin.CreateACL(
		sarama.Resource{ResourceType: sarama.AclResourceTopic, ResourceName: opts.prefix + "-topic"},
		sarama.Acl{Principal: opts.principal, Host: "*", Operation: sarama.AclOperationRead, PermissionType: sarama.AclPermissionAllow},
	)
	emit("create-topic-acl", err, nil)
	err = admin.CreateACL(
		sarama.Resource{ResourceType: sarama.AclResourceGroup, ResourceName: opts.prefix + "-group"},
		sarama.Acl{Principal: opts.principal, Host: "*", Operation: sarama.AclOperationDescribe, PermissionType: sarama.AclPermissionDeny},
	)
	emit("create-group-acl", err, nil)

	resources, err := admin.ListAcls(principalFilter(opts))
	emit("list", err, step{"acls": listed(resources)})

	matching, err := admin.DeleteACL(sarama.AclFilter{
		ResourceType:   sarama.AclResourceTopic,
		ResourceName:   strPtr(opts.prefix + "-topic"),
		Principal:      strPtr(opts.principal),
		Operation:      sarama.AclOperationAny,
		PermissionType: sarama.AclPermissionAny,
	}, false)
	deleted := [][]interface{}{}
	for _, acl := range matching {
		deleted = append(deleted, append(binding(acl.Resource, acl.Acl), int(acl.Err)))
	}
	emit("delete", err, step{"matching": deleted})

	resources, err = admin.ListAcls(principalFilter(opts))
	emit("list-after-delete", err, step{"acls": listed(resources)})
}

func denied(admin sarama.ClusterAdmin, opts options) {
	resource := sarama.Resource{ResourceType: sarama.AclResourceTopic, ResourceName: opts.prefix + "-topic"}
	acl := sarama.Acl{Principal: opts.principal, Host: "*", Operation: sarama.AclOperationAll, PermissionType: sarama.AclPermissionAllow}
	emit("admin-create", admin.CreateACL(resource, acl), nil)
	resources, err := admin.ListAcls(principalFilter(opts))
	emit("admin-list", err, step{"acls": listed(resources)})
	matching, err := admin.DeleteACL(principalFilter(opts), false)
	emit("admin-delete", err, step{"matching": len(matching)})

	// ClusterAdmin does not expose its client, so a second one finds the controller for the direct calls.
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig(opts))
	if err != nil {
		emit("client", err, nil)
		return
	}
	defer client.Close()
	broker, err := client.Controller()
	if err != nil {
		emit("controller", err, nil)
		return
	}
	created, err := broker.CreateAcls(&sarama.CreateAclsRequest{AclCreations: []*sarama.AclCreation{{Resource: resource, Acl: acl}}})
	if err == nil {
		emit("create-response", created.AclCreationResponses[0].Err, step{"msg": created.AclCreationResponses[0].ErrMsg})
	} else {
		emit("create-response", err, nil)
	}
	filter := principalFilter(opts)
	described, err := broker.DescribeAcls(&sarama.DescribeAclsRequest{AclFilter: filter})
	if err == nil {
		emit("describe-response", described.Err, step{"msg": described.ErrMsg, "resources": len(described.ResourceAcls)})
	} else {
		emit("describe-response", err, nil)
	}
	deletedResponse, err := broker.DeleteAcls(&sarama.DeleteAclsRequest{Filters: []*sarama.AclFilter{&filter}})
	if err == nil {
		result := deletedResponse.FilterResponses[0]
		emit("delete-response", result.Err, step{"msg": result.ErrMsg, "matching": len(result.MatchingAcls)})
	} else {
		emit("delete-response", err, nil)
	}
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(2)
}
