// Command sarama-interop drives the Go Kafka client sarama 1.22.1 (Debian golang-github-shopify-sarama-dev)
// against a broker for test/interop/sarama.test.ts. It prints one JSON object per line on stdout so the Node
// test can assert exact content; diagnostics go to stderr.
//
// Subcommands:
//
//	produce    SyncProducer sends -count messages round-robin over -partitions; prints {"p","o"} per message,
//	           or {"err","msg"} per failed message (then exits 3).
//	consume    partition consumers read every partition from the oldest offset up to the high watermark
//	           measured at start; prints {"p","o","k","v","h"} sorted by partition and offset.
//	group      a ConsumerGroup reads -count messages, marks each one, and leaves the group (committing the
//	           marks); prints {"p","o","k","v","h"} sorted by partition and offset.
//	committed  prints the group's committed offsets via OffsetFetch v1: {"p","o"} per partition.
//
// and scripted sessions that print one {"step","err",...} line per call (admin.go, client.go):
//
//	admin         ClusterAdmin on topics: create (validate-only, errors), list, describe, configs,
//	              partitions, delete records, delete, describe cluster; -topic is the name prefix.
//	admin-groups  OffsetManager commits, then ClusterAdmin lists and describes groups and their offsets
//	              while a ConsumerGroup member of -group-active is in the group.
//	positions     ListOffsets and partition consumers from an offset, from the newest, out of range;
//	              CreateTime timestamps (one-partition -topic).
//	partitioner   Sync and Async producers with the Hash partitioner over -partitions.
//	acks          three messages with each of RequiredAcks 0, 1, -1.
//	max-bytes     one message of each -sizes value.
//
// Message i has key "k<i>" (null when -null-key=i), value "<prefix>-v<i>" (null when -null-value=i) and, when
// the protocol version carries headers (V0_11_0_0+), headers origin=sarama and n=<i>.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type options struct {
	bootstrap   string
	topic       string
	group       string
	count       int
	partitions  int
	version     sarama.KafkaVersion
	compression sarama.CompressionCodec
	prefix      string
	nullKey     int
	nullValue   int
	members     int
	sizes       string
	timeout     time.Duration
}

type record struct {
	P int32       `json:"p"`
	O int64       `json:"o"`
	K *string     `json:"k"`
	V *string     `json:"v"`
	H [][2]string `json:"h"`
	// M is the index of the group member that read the record (group only).
	M *int `json:"m,omitempty"`
}

type produced struct {
	P int32 `json:"p"`
	O int64 `json:"o"`
}

type produceFailure struct {
	Err int16  `json:"err"`
	Msg string `json:"msg"`
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-interop produce|consume|group|committed|admin|admin-groups|positions|partitioner|acks|max-bytes [flags]")
	}
	opts := parseFlags(os.Args[1], os.Args[2:])
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	var err error
	switch os.Args[1] {
	case "produce":
		err = produce(opts)
	case "consume":
		err = consume(opts)
	case "group":
		err = consumeGroup(opts)
	case "committed":
		err = committed(opts)
	case "admin":
		err = adminTopics(opts)
	case "admin-groups":
		err = adminGroups(opts)
	case "positions":
		err = positions(opts)
	case "partitioner":
		err = partitioner(opts)
	case "acks":
		err = acks(opts)
	case "max-bytes":
		err = maxBytes(opts)
	default:
		fatal("unknown subcommand " + os.Args[1])
	}
	if err != nil {
		fatal(err.Error())
	}
}

func parseFlags(name string, args []string) options {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	topic := fs.String("topic", "", "topic")
	group := fs.String("group", "", "consumer group id (group, committed)")
	count := fs.Int("count", 10, "messages to produce, or to read with group")
	partitions := fs.Int("partitions", 1, "partitions to spread messages over / to read")
	version := fs.String("version", "", "sarama Config.Version, e.g. 2.1.0 (empty: sarama's default, V0_8_2_0)")
	compression := fs.String("compression", "none", "none, gzip, snappy, lz4 or zstd")
	prefix := fs.String("prefix", "sarama", "value prefix")
	nullKey := fs.Int("null-key", -1, "index of the message whose key is null")
	nullValue := fs.Int("null-value", -1, "index of the message whose value is null")
	members := fs.Int("members", 1, "consumer group members in this process (group)")
	sizes := fs.String("sizes", "", "comma-separated message sizes in bytes (max-bytes)")
	timeout := fs.Duration("timeout", 20*time.Second, "overall deadline for reading")
	if err := fs.Parse(args); err != nil {
		fatal(err.Error())
	}
	opts := options{
		bootstrap:  *bootstrap,
		topic:      *topic,
		group:      *group,
		count:      *count,
		partitions: *partitions,
		version:    sarama.NewConfig().Version,
		prefix:     *prefix,
		nullKey:    *nullKey,
		nullValue:  *nullValue,
		members:    *members,
		sizes:      *sizes,
		timeout:    *timeout,
	}
	if *version != "" {
		v, err := sarama.ParseKafkaVersion(*version)
		if err != nil {
			fatal(err.Error())
		}
		opts.version = v
	}
	codecs := map[string]sarama.CompressionCodec{
		"none":   sarama.CompressionNone,
		"gzip":   sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy,
		"lz4":    sarama.CompressionLZ4,
		"zstd":   sarama.CompressionZSTD,
	}
	codec, ok := codecs[*compression]
	if !ok {
		fatal("unknown compression " + *compression)
	}
	opts.compression = codec
	if opts.topic == "" {
		fatal("-topic is required")
	}
	return opts
}

func newConfig(opts options) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-interop"
	config.Version = opts.version
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Metadata.Retry.Max = 3
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	config.Consumer.MaxWaitTime = 200 * time.Millisecond
	config.Consumer.Return.Errors = true
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Group.Session.Timeout = 10 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 1 * time.Second
	return config
}

func produce(opts options) error {
	client, err := sarama.NewClient([]string{opts.bootstrap}, producerConfig(opts, sarama.WaitForAll))
	if err != nil {
		return err
	}
	defer client.Close()
	for p := int32(0); p < int32(opts.partitions); p++ {
		leader, err := client.Leader(opts.topic, p)
		if err != nil {
			return fmt.Errorf("leader of partition %d: %v", p, err)
		}
		if err := waitConnected(leader); err != nil {
			return err
		}
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()

	withHeaders := opts.version.IsAtLeast(sarama.V0_11_0_0)
	messages := make([]*sarama.ProducerMessage, opts.count)
	for i := range messages {
		message := &sarama.ProducerMessage{Topic: opts.topic, Partition: int32(i % opts.partitions)}
		if i != opts.nullKey {
			message.Key = sarama.StringEncoder("k" + strconv.Itoa(i))
		}
		if i != opts.nullValue {
			message.Value = sarama.StringEncoder(opts.prefix + "-v" + strconv.Itoa(i))
		}
		if withHeaders {
			message.Headers = []sarama.RecordHeader{
				{Key: []byte("origin"), Value: []byte("sarama")},
				{Key: []byte("n"), Value: []byte(strconv.Itoa(i))},
			}
		}
		messages[i] = message
	}
	// One SendMessages call lets sarama put several messages of a partition into one batch, so compression
	// covers more than single records.
	sendErr := producer.SendMessages(messages)
	failed := map[*sarama.ProducerMessage]*sarama.ProducerError{}
	if errs, ok := sendErr.(sarama.ProducerErrors); ok {
		for _, e := range errs {
			failed[e.Msg] = e
		}
	} else if sendErr != nil {
		return sendErr
	}
	out := json.NewEncoder(os.Stdout)
	for _, message := range messages {
		if e, ok := failed[message]; ok {
			code := int16(-1)
			if kerr, isKafka := e.Err.(sarama.KError); isKafka {
				code = int16(kerr)
			}
			_ = out.Encode(produceFailure{Err: code, Msg: e.Err.Error()})
			continue
		}
		_ = out.Encode(produced{P: message.Partition, O: message.Offset})
	}
	if len(failed) > 0 {
		os.Exit(3)
	}
	return nil
}

func toRecord(m *sarama.ConsumerMessage) record {
	r := record{P: m.Partition, O: m.Offset, H: [][2]string{}}
	if m.Key != nil {
		k := string(m.Key)
		r.K = &k
	}
	if m.Value != nil {
		v := string(m.Value)
		r.V = &v
	}
	for _, h := range m.Headers {
		r.H = append(r.H, [2]string{string(h.Key), string(h.Value)})
	}
	return r
}

func printSorted(records []record) {
	sort.Slice(records, func(a, b int) bool {
		if records[a].P != records[b].P {
			return records[a].P < records[b].P
		}
		return records[a].O < records[b].O
	})
	out := json.NewEncoder(os.Stdout)
	for _, r := range records {
		_ = out.Encode(r)
	}
}

func consume(opts options) error {
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig(opts))
	if err != nil {
		return err
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer consumer.Close()

	deadline := time.After(opts.timeout)
	var records []record
	for p := int32(0); p < int32(opts.partitions); p++ {
		leader, err := client.Leader(opts.topic, p)
		if err != nil {
			return fmt.Errorf("leader of partition %d: %v", p, err)
		}
		if err := waitConnected(leader); err != nil {
			return err
		}
		highWatermark, err := client.GetOffset(opts.topic, p, sarama.OffsetNewest)
		if err != nil {
			return fmt.Errorf("ListOffsets partition %d: %v", p, err)
		}
		if highWatermark == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(opts.topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("consume partition %d: %v", p, err)
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				records = append(records, toRecord(m))
				done = m.Offset >= highWatermark-1
			case e := <-pc.Errors():
				_ = pc.Close()
				return fmt.Errorf("partition %d: %v", p, e.Err)
			case <-deadline:
				_ = pc.Close()
				return fmt.Errorf("timed out on partition %d before offset %d; read %d records",
					p, highWatermark-1, len(records))
			}
		}
		if err := pc.Close(); err != nil {
			return err
		}
	}
	printSorted(records)
	return nil
}

// groupCollector gathers what all members read and cancels the consumption once -count records arrived.
type groupCollector struct {
	mu      sync.Mutex
	records []record
	want    int
	cancel  context.CancelFunc
}

// memberHandler marks every message it hands to the collector, so the session commits it when it ends.
type memberHandler struct {
	collector *groupCollector
	member    int
}

func (h *memberHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *memberHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *memberHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	c := h.collector
	for m := range claim.Messages() {
		r := toRecord(m)
		r.M = &h.member
		c.mu.Lock()
		c.records = append(c.records, r)
		session.MarkMessage(m, "")
		if len(c.records) >= c.want {
			c.cancel()
		}
		c.mu.Unlock()
	}
	return nil
}

func consumeGroup(opts options) error {
	if opts.group == "" {
		return fmt.Errorf("-group is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	collector := &groupCollector{want: opts.count, cancel: cancel}
	// Each member is a ConsumerGroup with its own client, as separate processes would be.
	memberErrors := make([]error, opts.members)
	var members sync.WaitGroup
	for i := 0; i < opts.members; i++ {
		members.Add(1)
		go func(i int) {
			defer members.Done()
			memberErrors[i] = runMember(ctx, opts, opts.group, &memberHandler{collector: collector, member: i})
		}(i)
	}
	members.Wait()
	for i, err := range memberErrors {
		if err != nil {
			return fmt.Errorf("member %d: %v", i, err)
		}
	}
	collector.mu.Lock()
	defer collector.mu.Unlock()
	if len(collector.records) < opts.count {
		return fmt.Errorf("read %d of %d records before the deadline", len(collector.records), opts.count)
	}
	printSorted(collector.records)
	return nil
}

func runMember(ctx context.Context, opts options, groupID string, handler sarama.ConsumerGroupHandler) error {
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig(opts))
	if err != nil {
		return err
	}
	defer client.Close()
	coordinator, err := client.Coordinator(groupID)
	if err != nil {
		return fmt.Errorf("FindCoordinator: %v", err)
	}
	if err := waitConnected(coordinator); err != nil {
		return err
	}
	group, err := sarama.NewConsumerGroupFromClient(groupID, client)
	if err != nil {
		return err
	}
	var lastError error
	var errorsDone sync.WaitGroup
	errorsDone.Add(1)
	go func() {
		defer errorsDone.Done()
		for e := range group.Errors() {
			lastError = e
		}
	}()
	// Consume returns when a session ends (a rebalance, or the cancel); loop until the context is done.
	var consumeErr error
	for ctx.Err() == nil && consumeErr == nil {
		consumeErr = group.Consume(ctx, []string{opts.topic}, handler)
	}
	// Close leaves the group; each session already flushed its marked offsets when it ended.
	closeErr := group.Close()
	errorsDone.Wait()
	switch {
	case consumeErr != nil:
		return fmt.Errorf("consume: %v", consumeErr)
	case closeErr != nil:
		return fmt.Errorf("close: %v", closeErr)
	case lastError != nil:
		return fmt.Errorf("group error: %v", lastError)
	}
	return nil
}

func committed(opts options) error {
	if opts.group == "" {
		return fmt.Errorf("-group is required")
	}
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig(opts))
	if err != nil {
		return err
	}
	defer client.Close()
	coordinator, err := client.Coordinator(opts.group)
	if err != nil {
		return fmt.Errorf("FindCoordinator: %v", err)
	}
	if err := waitConnected(coordinator); err != nil {
		return err
	}
	request := &sarama.OffsetFetchRequest{Version: 1, ConsumerGroup: opts.group}
	for p := int32(0); p < int32(opts.partitions); p++ {
		request.AddPartition(opts.topic, p)
	}
	response, err := coordinator.FetchOffset(request)
	if err != nil {
		return fmt.Errorf("OffsetFetch: %v", err)
	}
	out := json.NewEncoder(os.Stdout)
	for p := int32(0); p < int32(opts.partitions); p++ {
		block := response.GetBlock(opts.topic, p)
		if block == nil {
			return fmt.Errorf("OffsetFetch: no block for partition %d", p)
		}
		if block.Err != sarama.ErrNoError {
			return fmt.Errorf("OffsetFetch partition %d: %v", p, block.Err)
		}
		_ = out.Encode(produced{P: p, O: block.Offset})
	}
	return nil
}

// waitConnected waits until the connection that Client.Leader or Client.Coordinator started opening is up.
// sarama 1.22.1's Broker.Open marks the broker opened before it takes the lock that guards the dial, so a
// request sent right after can find no connection and fail with ErrNotConnected, a purely client-side error
// that never reaches the broker. Retrying would hide real broker errors, so wait instead.
func waitConnected(broker *sarama.Broker) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		connected, err := broker.Connected()
		if connected {
			return nil
		}
		if err != nil {
			return fmt.Errorf("connect to %s: %v", broker.Addr(), err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("connect to %s: not connected after 5 s", broker.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, "sarama-interop:", message)
	os.Exit(1)
}
