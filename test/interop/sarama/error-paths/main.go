// Command sarama-error-paths drives sarama 1.22.1 (Debian golang-github-shopify-sarama-dev) into the error
// paths of a broker for test/interop/error-paths.test.ts. It is its own program (not part of
// ../main.go's) so that the error-path tests build only what they run. Each subcommand prints one JSON line
// per sarama call, {"step": name, "err": code, ...}: err is the Kafka error code sarama returned (0: none,
// -1: an error sarama made itself, its text in "msg"). Every client uses Config.Version V2_0_0_0.
//
// Subcommands:
//
//	produce   SyncProducers with acks 2 (-topic), acks all and acks 1 on a min.insync.replicas=2 topic
//	          (-isr-topic), to a missing topic (-missing) and to a partition -topic lacks.
//	session   a ConsumerGroup member of -group asking for a session timeout below group.min.session.timeout.ms
//	          and one above group.max.session.timeout.ms.
//	expelled  a ConsumerGroup member of -group on -topic is removed from the group by a LeaveGroup sent for
//	          it; it must rejoin under a new member id and read a message produced after that.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
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
	case sarama.ProducerErrors:
		emitCode(line, e[0].Err)
	case *sarama.ProducerError:
		emitCode(line, e.Err)
	default:
		line["err"] = -1
		line["msg"] = err.Error()
	}
	_ = out.Encode(line)
}

func emitCode(line step, err error) {
	if kerr, ok := err.(sarama.KError); ok {
		line["err"] = int(kerr)
		return
	}
	line["err"] = -1
	line["msg"] = err.Error()
}

type options struct {
	bootstrap string
	topic     string
	isrTopic  string
	missing   string
	group     string
}

func newConfig() *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-error-paths"
	config.Version = sarama.V2_0_0_0
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Metadata.Retry.Max = 3
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	config.Producer.Return.Successes = true
	config.Producer.Return.Errors = true
	config.Producer.Retry.Max = 0
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Consumer.MaxWaitTime = 200 * time.Millisecond
	config.Consumer.Return.Errors = true
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Group.Session.Timeout = 10 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	config.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	return config
}

// sendOne sends one message with the given acks and prints its step: the offset on success.
func sendOne(opts options, name, topic string, partition int32, acks sarama.RequiredAcks) {
	config := newConfig()
	config.Producer.RequiredAcks = acks
	producer, err := sarama.NewSyncProducer([]string{opts.bootstrap}, config)
	if err != nil {
		emit(name, err, nil)
		return
	}
	defer producer.Close()
	started := time.Now()
	p, offset, err := producer.SendMessage(&sarama.ProducerMessage{
		Topic:     topic,
		Partition: partition,
		Value:     sarama.StringEncoder(name),
	})
	fields := step{"withinTimeout": time.Since(started) < 10*time.Second}
	if err == nil {
		fields["p"] = p
		fields["o"] = offset
	}
	emit(name, err, fields)
}

func produceErrors(opts options) error {
	sendOne(opts, "acks-2", opts.topic, 0, sarama.RequiredAcks(2))
	sendOne(opts, "min-isr-acks-all", opts.isrTopic, 0, sarama.WaitForAll)
	sendOne(opts, "min-isr-acks-1", opts.isrTopic, 0, sarama.WaitForLocal)
	sendOne(opts, "missing-topic", opts.missing, 0, sarama.WaitForLocal)
	sendOne(opts, "missing-partition", opts.topic, 5, sarama.WaitForLocal)
	sendOne(opts, "acks-1", opts.topic, 0, sarama.WaitForLocal)
	return nil
}

type idleHandler struct{}

func (idleHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (idleHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (idleHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for range claim.Messages() {
	}
	return nil
}

func sessionTimeouts(opts options) error {
	for _, c := range []struct {
		name    string
		timeout time.Duration
	}{{"below-min", 1 * time.Second}, {"above-max", 31 * time.Minute}} {
		config := newConfig()
		config.Consumer.Group.Session.Timeout = c.timeout
		group, err := sarama.NewConsumerGroup([]string{opts.bootstrap}, opts.group, config)
		if err != nil {
			emit(c.name, err, nil)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = group.Consume(ctx, []string{opts.topic}, idleHandler{})
		cancel()
		emit(c.name, err, nil)
		if err := group.Close(); err != nil {
			return fmt.Errorf("close: %v", err)
		}
	}
	return nil
}

// expelHandler records each session and, in the first one, has the member removed from the group.
type expelHandler struct {
	opts     options
	client   sarama.Client
	sessions int
	done     context.CancelFunc
	failure  error
}

func (h *expelHandler) Setup(session sarama.ConsumerGroupSession) error {
	h.sessions++
	emit("session", nil, step{"n": h.sessions, "gen": session.GenerationID(), "member": session.MemberID()})
	if h.sessions == 1 {
		// As another process would (kafka-consumer-groups, an operator tool): LeaveGroup v0 names the member.
		coordinator, err := h.client.Coordinator(h.opts.group)
		if err == nil {
			var response *sarama.LeaveGroupResponse
			response, err = coordinator.LeaveGroup(&sarama.LeaveGroupRequest{
				GroupId:  h.opts.group,
				MemberId: session.MemberID(),
			})
			if err == nil && response.Err != sarama.ErrNoError {
				err = response.Err
			}
		}
		emit("expel", err, nil)
		if err != nil {
			h.failure = err
			h.done()
		}
		return nil
	}
	producer, err := sarama.NewSyncProducerFromClient(h.client)
	if err == nil {
		_, _, err = producer.SendMessage(&sarama.ProducerMessage{
			Topic: h.opts.topic, Partition: 0, Value: sarama.StringEncoder("after-rejoin"),
		})
		_ = producer.Close()
	}
	emit("produce", err, nil)
	if err != nil {
		h.failure = err
		h.done()
	}
	return nil
}

func (h *expelHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *expelHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		if string(m.Value) == "after-rejoin" {
			emit("read", nil, step{"session": h.sessions, "p": m.Partition, "o": m.Offset})
			session.MarkMessage(m, "")
			h.done()
		}
	}
	return nil
}

func expelled(opts options) error {
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig())
	if err != nil {
		return err
	}
	defer client.Close()
	group, err := sarama.NewConsumerGroupFromClient(opts.group, client)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	handler := &expelHandler{opts: opts, client: client, done: cancel}
	go func() {
		for e := range group.Errors() {
			emit("group-error", e, nil)
		}
	}()
	// Consume returns when a session ends; an expelled member's session ends on its next heartbeat.
	var consumeErr error
	for ctx.Err() == nil && consumeErr == nil {
		consumeErr = group.Consume(ctx, []string{opts.topic}, handler)
	}
	if consumeErr != nil {
		emit("consume", consumeErr, nil)
	}
	if err := group.Close(); err != nil {
		return fmt.Errorf("close: %v", err)
	}
	if handler.failure != nil {
		return handler.failure
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("no rejoin within 25 s (%d sessions)", handler.sessions)
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-error-paths produce|session|expelled [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	topic := fs.String("topic", "", "topic")
	isrTopic := fs.String("isr-topic", "", "topic with min.insync.replicas=2 (produce)")
	missing := fs.String("missing", "", "topic that does not exist (produce)")
	group := fs.String("group", "", "consumer group id (session, expelled)")
	if err := fs.Parse(os.Args[2:]); err != nil {
		fatal(err.Error())
	}
	opts := options{bootstrap: *bootstrap, topic: *topic, isrTopic: *isrTopic, missing: *missing, group: *group}
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	var err error
	switch os.Args[1] {
	case "produce":
		err = produceErrors(opts)
	case "session":
		err = sessionTimeouts(opts)
	case "expelled":
		err = expelled(opts)
	default:
		fatal("unknown subcommand " + os.Args[1])
	}
	if err != nil {
		fatal(err.Error())
	}
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, "sarama-error-paths:", message)
	os.Exit(1)
}
