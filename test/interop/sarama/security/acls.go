package main

// The admin and denied subcommands: ACL administration through sarama's ClusterAdmin, logged in with SASL.
//
// sarama 1.22.1's ClusterAdmin always sends CreateAcls, DescribeAcls and DeleteAcls at v0, which has no
// pattern type: the broker reads every binding and filter as LITERAL, and sarama decodes the pattern type of
// what comes back as 0 (unknown). ClusterAdmin also drops the per-creation and per-filter error codes, so the
// denied subcommand repeats each call on the controller's sarama.Broker to show the codes the broker sent.
//
//	admin   creates two ACLs for -principal (READ on topic <prefix>-topic, a DENY of DESCRIBE on group
//	        <prefix>-group), lists that principal's ACLs, deletes the topic one and lists again.
//	denied  the same calls from a user who may not administer ACLs: what ClusterAdmin returns, then the error
//	        codes in the responses themselves.

import "github.com/Shopify/sarama"

// aclSession runs the admin or denied subcommand; it fails only when no ClusterAdmin can be made.
func aclSession(subcommand string, opts options) bool {
	admin, err := sarama.NewClusterAdmin([]string{opts.bootstrap}, newConfig(opts))
	emit("cluster-admin", err, nil)
	if err != nil {
		return true
	}
	defer admin.Close()
	if subcommand == "admin" {
		administer(admin, opts)
	} else {
		denied(admin, opts)
	}
	return false
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
