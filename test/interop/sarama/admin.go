// The admin and admin-groups subcommands: scripted ClusterAdmin sessions that print one JSON step per line,
// {"step": name, "err": code, "msg": text, ...}, so the Node test can compare the whole session with what a
// Kafka broker answers. sarama 1.22.1 picks the CreateTopics, DeleteTopics and Metadata versions from
// Config.Version; DescribeConfigs, AlterConfigs, CreatePartitions, DeleteRecords, DescribeGroups and ListGroups
// are always v0.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

// step is one line of a scripted session. Err is the Kafka error code (0: none, -1: an error without one,
// described by Msg).
type step map[string]interface{}

var stepOut = json.NewEncoder(os.Stdout)

func emit(name string, err error, fields step) {
	line := step{"step": name}
	for k, v := range fields {
		line[k] = v
	}
	code, msg := errorCode(err)
	line["err"] = code
	if msg != "" {
		line["msg"] = msg
	}
	_ = stepOut.Encode(line)
}

// errorCode maps what sarama returns to a Kafka error code; errors sarama builds from a broker's message text
// (DescribeConfig, AlterConfig) keep their text in msg.
func errorCode(err error) (int, string) {
	switch e := err.(type) {
	case nil:
		return 0, ""
	case sarama.KError:
		return int(e), ""
	case *sarama.TopicError:
		return int(e.Err), ""
	case *sarama.TopicPartitionError:
		return int(e.Err), ""
	case sarama.ProducerErrors:
		return errorCode(e[0].Err)
	default:
		return -1, err.Error()
	}
}

func strPtr(s string) *string { return &s }

func newAdmin(opts options) (sarama.ClusterAdmin, error) {
	admin, err := sarama.NewClusterAdmin([]string{opts.bootstrap}, newConfig(opts))
	if err != nil {
		return nil, err
	}
	// NewClusterAdmin opened the controller connection; wait for it as the other subcommands do.
	controller, err := admin.(interface {
		Controller() (*sarama.Broker, error)
	}).Controller()
	if err == nil {
		err = waitConnected(controller)
	}
	if err != nil {
		_ = admin.Close()
		return nil, err
	}
	return admin, nil
}

type partitionView struct {
	ID       int32   `json:"id"`
	Leader   int32   `json:"leader"`
	Replicas []int32 `json:"replicas"`
	Isr      []int32 `json:"isr"`
	Err      int     `json:"err"`
}

type topicView struct {
	Name       string          `json:"name"`
	Err        int             `json:"err"`
	Partitions []partitionView `json:"partitions"`
}

func describeTopics(admin sarama.ClusterAdmin, name string, topics ...string) {
	metadata, err := admin.DescribeTopics(topics)
	views := []topicView{}
	for _, topic := range metadata {
		view := topicView{Name: topic.Name, Err: int(topic.Err), Partitions: []partitionView{}}
		for _, p := range topic.Partitions {
			view.Partitions = append(view.Partitions, partitionView{
				ID: p.ID, Leader: p.Leader, Replicas: p.Replicas, Isr: p.Isr, Err: int(p.Err),
			})
		}
		sort.Slice(view.Partitions, func(a, b int) bool { return view.Partitions[a].ID < view.Partitions[b].ID })
		views = append(views, view)
	}
	emit(name, err, step{"topics": views})
}

type configView struct {
	Value    string `json:"value"`
	Default  bool   `json:"default"`
	ReadOnly bool   `json:"readOnly"`
}

var describedTopicConfigs = []string{"cleanup.policy", "max.message.bytes", "retention.ms", "segment.bytes"}

func describeConfig(admin sarama.ClusterAdmin, name string, resource sarama.ConfigResource) {
	entries, err := admin.DescribeConfig(resource)
	configs := map[string]configView{}
	for _, entry := range entries {
		configs[entry.Name] = configView{Value: entry.Value, Default: entry.Default, ReadOnly: entry.ReadOnly}
	}
	emit(name, err, step{"configs": configs})
}

func adminTopics(opts options) error {
	admin, err := newAdmin(opts)
	if err != nil {
		return err
	}
	defer admin.Close()

	topic := opts.topic + "-t"
	missing := opts.topic + "-missing"
	bad := opts.topic + "-bad"
	created := &sarama.TopicDetail{
		NumPartitions:     3,
		ReplicationFactor: 1,
		ConfigEntries:     map[string]*string{"retention.ms": strPtr("3600000"), "segment.bytes": strPtr("1048576")},
	}

	emit("create-validate-only", admin.CreateTopic(topic, created, true), nil)
	describeTopics(admin, "describe-after-validate-only", topic)
	emit("create", admin.CreateTopic(topic, created, false), nil)
	emit("create-existing", admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false), nil)
	emit("create-zero-partitions", admin.CreateTopic(bad, &sarama.TopicDetail{NumPartitions: 0, ReplicationFactor: 1}, false), nil)
	emit("create-replication-factor-3", admin.CreateTopic(bad, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 3}, false), nil)
	emit("create-bad-config-value", admin.CreateTopic(bad, &sarama.TopicDetail{
		NumPartitions: 1, ReplicationFactor: 1, ConfigEntries: map[string]*string{"retention.ms": strPtr("soon")},
	}, false), nil)

	all, err := admin.ListTopics()
	listed := map[string]sarama.TopicDetail{}
	for name, detail := range all {
		if strings.HasPrefix(name, opts.topic+"-") {
			listed[name] = detail
		}
	}
	emit("list-topics", err, step{"topics": listed})
	describeTopics(admin, "describe", topic, missing)

	resource := sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: describedTopicConfigs}
	describeConfig(admin, "describe-config", resource)
	describeConfig(admin, "describe-config-missing", sarama.ConfigResource{Type: sarama.TopicResource, Name: missing})
	// sarama 1.22.1 numbers its resource types after the ACL ones: its BrokerResource (5) is no Kafka config
	// resource type, and its ClusterResource (4) is Kafka's BROKER.
	brokerConfigs := []string{"log.retention.ms", "message.max.bytes"}
	describeConfig(admin, "describe-config-broker-resource", sarama.ConfigResource{
		Type: sarama.BrokerResource, Name: "0", ConfigNames: brokerConfigs,
	})
	describeConfig(admin, "describe-config-cluster-resource", sarama.ConfigResource{
		Type: sarama.ClusterResource, Name: "0", ConfigNames: brokerConfigs,
	})

	twoHours := map[string]*string{"retention.ms": strPtr("7200000")}
	emit("alter-validate-only", admin.AlterConfig(sarama.TopicResource, topic, twoHours, true), nil)
	describeConfig(admin, "describe-after-validate-only-alter", resource)
	// AlterConfigs replaces the whole set: segment.bytes, not named here, goes back to its default.
	emit("alter", admin.AlterConfig(sarama.TopicResource, topic, twoHours, false), nil)
	describeConfig(admin, "describe-after-alter", resource)
	emit("alter-bad-value", admin.AlterConfig(sarama.TopicResource, topic,
		map[string]*string{"retention.ms": strPtr("soon")}, false), nil)
	emit("alter-missing", admin.AlterConfig(sarama.TopicResource, missing, twoHours, false), nil)

	emit("create-partitions-validate-only", createPartitionsValidateOnly(admin, topic, 5), nil)
	describeTopics(admin, "describe-after-validate-only-partitions", topic)
	emit("create-partitions", admin.CreatePartitions(topic, 5, nil, false), nil)
	describeTopics(admin, "describe-after-create-partitions", topic)
	emit("create-partitions-fewer", admin.CreatePartitions(topic, 2, nil, false), nil)
	emit("create-partitions-missing", admin.CreatePartitions(missing, 2, nil, false), nil)

	if err := adminDeleteRecords(opts, admin, topic); err != nil {
		return err
	}

	emit("delete", admin.DeleteTopic(topic), nil)
	emit("delete-again", admin.DeleteTopic(topic), nil)
	describeTopics(admin, "describe-after-delete", topic)

	brokers, controllerID, err := admin.DescribeCluster()
	nodes := []step{}
	for _, b := range brokers {
		nodes = append(nodes, step{"id": b.ID(), "addr": b.Addr()})
	}
	emit("describe-cluster", err, step{"brokers": nodes, "controller": controllerID})
	return nil
}

// createPartitionsValidateOnly sends CreatePartitions with validate_only set, which sarama 1.22.1's
// ClusterAdmin.CreatePartitions takes as an argument but never puts in the request.
func createPartitionsValidateOnly(admin sarama.ClusterAdmin, topic string, count int32) error {
	controller, err := admin.(interface {
		Controller() (*sarama.Broker, error)
	}).Controller()
	if err != nil {
		return err
	}
	response, err := controller.CreatePartitions(&sarama.CreatePartitionsRequest{
		TopicPartitions: map[string]*sarama.TopicPartition{topic: {Count: count}},
		Timeout:         3 * time.Second,
		ValidateOnly:    true,
	})
	if err != nil {
		return err
	}
	topicErr, ok := response.TopicPartitionErrors[topic]
	if !ok {
		return sarama.ErrIncompleteResponse
	}
	if topicErr.Err != sarama.ErrNoError {
		return topicErr
	}
	return nil
}

// adminDeleteRecords writes six records to partition 0 and deletes the first four.
func adminDeleteRecords(opts options, admin sarama.ClusterAdmin, topic string) error {
	client, err := sarama.NewClient([]string{opts.bootstrap}, producerConfig(opts, sarama.WaitForAll))
	if err != nil {
		return err
	}
	defer client.Close()
	leader, err := client.Leader(topic, 0)
	if err != nil {
		return fmt.Errorf("leader: %v", err)
	}
	if err := waitConnected(leader); err != nil {
		return err
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	for i := 0; i < 6; i++ {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: topic, Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("r%d", i)),
		}); err != nil {
			return fmt.Errorf("produce: %v", err)
		}
	}

	emit("delete-records", admin.DeleteRecords(topic, map[int32]int64{0: 4}), nil)
	oldest, errOldest := client.GetOffset(topic, 0, sarama.OffsetOldest)
	newest, errNewest := client.GetOffset(topic, 0, sarama.OffsetNewest)
	if errOldest == nil {
		errOldest = errNewest
	}
	emit("offsets-after-delete-records", errOldest, step{"oldest": oldest, "newest": newest})

	// ClusterAdmin.DeleteRecords drops per-partition errors, so ask the broker directly for those.
	response, err := leader.DeleteRecords(&sarama.DeleteRecordsRequest{
		Topics:  map[string]*sarama.DeleteRecordsRequestTopic{topic: {PartitionOffsets: map[int32]int64{0: 99, 1: -1}}},
		Timeout: opts.timeout,
	})
	partitions := map[int32]step{}
	if err == nil {
		for p, result := range response.Topics[topic].Partitions {
			partitions[p] = step{"err": int(result.Err), "lowWatermark": result.LowWatermark}
		}
	}
	emit("delete-records-raw", err, step{"partitions": partitions})
	return nil
}

type groupView struct {
	Err          int               `json:"err"`
	State        string            `json:"state"`
	ProtocolType string            `json:"protocolType"`
	Protocol     string            `json:"protocol"`
	Members      []groupMemberView `json:"members"`
}

type groupMemberView struct {
	ClientID   string             `json:"clientId"`
	Topics     []string           `json:"topics"`
	Assignment map[string][]int32 `json:"assignment"`
}

func describeGroups(admin sarama.ClusterAdmin, name string, groups ...string) {
	described, err := admin.DescribeConsumerGroups(groups)
	views := map[string]groupView{}
	for _, g := range described {
		view := groupView{
			Err: int(g.Err), State: g.State, ProtocolType: g.ProtocolType, Protocol: g.Protocol,
			Members: []groupMemberView{},
		}
		for _, m := range g.Members {
			metadata, metadataErr := m.GetMemberMetadata()
			assignment, assignmentErr := m.GetMemberAssignment()
			if metadataErr != nil || assignmentErr != nil {
				err = fmt.Errorf("member %s: metadata %v, assignment %v", m.ClientId, metadataErr, assignmentErr)
				continue
			}
			view.Members = append(view.Members, groupMemberView{
				ClientID: m.ClientId, Topics: metadata.Topics, Assignment: assignment.Topics,
			})
		}
		views[g.GroupId] = view
	}
	emit(name, err, step{"groups": views})
}

func listGroupOffsets(admin sarama.ClusterAdmin, name, group, topic string, partitions []int32) {
	response, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: partitions})
	offsets := []step{}
	if err == nil {
		for _, p := range partitions {
			block := response.GetBlock(topic, p)
			if block == nil {
				err = fmt.Errorf("no block for partition %d", p)
				break
			}
			offsets = append(offsets, step{"p": p, "o": block.Offset, "meta": block.Metadata, "err": int(block.Err)})
		}
	}
	emit(name, err, step{"offsets": offsets})
}

// commitThroughOffsetManager marks (or resets) one offset with a fresh OffsetManager and closes it, which
// commits; it reports what the manager had read as the partition's next offset before the mark.
func commitThroughOffsetManager(opts options, name, group, topic string, offset int64, metadata string, reset bool) {
	config := newConfig(opts)
	client, err := sarama.NewClient([]string{opts.bootstrap}, config)
	if err != nil {
		emit(name, err, nil)
		return
	}
	defer client.Close()
	manager, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		emit(name, err, nil)
		return
	}
	partition, err := manager.ManagePartition(topic, 0)
	if err != nil {
		_ = manager.Close()
		emit(name, err, nil)
		return
	}
	before, beforeMetadata := partition.NextOffset()
	if reset {
		partition.ResetOffset(offset, metadata)
	} else {
		partition.MarkOffset(offset, metadata)
	}
	_ = manager.Close()
	// Close flushed the commit and closed the partition's error channel.
	for e := range partition.Errors() {
		if err == nil {
			err = e.Err
		}
	}
	emit(name, err, step{"before": before, "beforeMeta": beforeMetadata})
}

func adminGroups(opts options) error {
	admin, err := newAdmin(opts)
	if err != nil {
		return err
	}
	defer admin.Close()

	topic := opts.topic
	committedGroup := opts.group + "-committed"
	activeGroup := opts.group + "-active"
	missingGroup := opts.group + "-missing"

	// An OffsetManager commits outside any generation, as Kafka's simple consumers do.
	commitThroughOffsetManager(opts, "mark", committedGroup, topic, 3, "meta-3", false)
	commitThroughOffsetManager(opts, "mark-lower-ignored", committedGroup, topic, 2, "meta-2", false)
	commitThroughOffsetManager(opts, "reset", committedGroup, topic, 1, "back", true)
	commitThroughOffsetManager(opts, "read-back", committedGroup, topic, 1, "back", false)

	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	member := &readyHandler{ready: make(chan struct{})}
	memberDone := make(chan error, 1)
	go func() {
		memberDone <- runMember(ctx, opts, activeGroup, member)
	}()
	select {
	case <-member.ready:
	case err := <-memberDone:
		return fmt.Errorf("group member stopped before its first session: %v", err)
	case <-ctx.Done():
		return fmt.Errorf("group member did not join before the deadline")
	}

	groups, err := admin.ListConsumerGroups()
	listed := map[string]string{}
	for name, protocolType := range groups {
		if strings.HasPrefix(name, opts.group+"-") {
			listed[name] = protocolType
		}
	}
	emit("list-groups", err, step{"groups": listed})
	describeGroups(admin, "describe-groups", activeGroup, committedGroup, missingGroup)
	listGroupOffsets(admin, "offsets-committed", committedGroup, topic, []int32{0, 1})
	listGroupOffsets(admin, "offsets-missing-group", missingGroup, topic, []int32{0})

	cancel()
	if err := <-memberDone; err != nil {
		return err
	}
	// The member left the group when it closed.
	describeGroups(admin, "describe-after-leave", activeGroup)
	return nil
}

// readyHandler signals once its first session is set up and consumes nothing.
type readyHandler struct {
	ready chan struct{}
	once  sync.Once
}

func (h *readyHandler) Setup(sarama.ConsumerGroupSession) error {
	h.once.Do(func() { close(h.ready) })
	return nil
}
func (h *readyHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *readyHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for range claim.Messages() {
	}
	return nil
}
