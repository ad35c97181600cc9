// Command sarama-sasl drives sarama 1.22.1 (Debian golang-github-shopify-sarama-dev) through SASL
// authentication for test/interop/sasl.test.ts. It is its own program (not part of ../main.go's) so that the
// SASL tests build only what they run. Each subcommand prints one JSON line per sarama call,
// {"step": name, "err": code, ...}: err is the Kafka error code sarama returned (0: none, -1: an error sarama
// made itself, its text in "msg").
//
// sarama picks the SASL flow from Config.Version: for PLAIN, V1_0_0_0 and later send SaslHandshake v1 and
// wrap the token in SaslAuthenticate v0; older versions send SaslHandshake v0 and the token raw, size-prefixed,
// then wait for the broker's empty size-prefixed reply. SCRAM always uses SaslHandshake v1 and SaslAuthenticate
// v0, with the SCRAM client this program supplies (scram.go): sarama 1.22 ships none.
//
// Subcommands:
//
//	roundtrip  a SyncProducer sends -count messages to partition 0 of -topic, then a partition consumer reads
//	           them back from the oldest offset: one {"step":"produce","p","o"} line per message, then one
//	           {"step":"consume","p","o","k","v","h"} line per message read.
//	metadata   one sarama.Broker opened with the SASL settings asks for metadata: {"step":"metadata","err",
//	           "brokers"}. With bad credentials err is what the failed login left on the connection.
package main

import (
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
	if err == nil {
		line["err"] = 0
	} else if kerr, ok := err.(sarama.KError); ok {
		line["err"] = int(kerr)
	} else if perr, ok := err.(*sarama.ProducerError); ok {
		if kerr, ok := perr.Err.(sarama.KError); ok {
			line["err"] = int(kerr)
		} else {
			line["err"] = -1
			line["msg"] = perr.Err.Error()
		}
	} else {
		line["err"] = -1
		line["msg"] = err.Error()
	}
	_ = out.Encode(line)
}

type options struct {
	bootstrap string
	topic     string
	count     int
	version   sarama.KafkaVersion
	mechanism string
	user      string
	password  string
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-sasl roundtrip|metadata [flags]")
	}
	opts := parseFlags(os.Args[1], os.Args[2:])
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	var failed bool
	switch os.Args[1] {
	case "roundtrip":
		failed = roundtrip(opts)
	case "metadata":
		failed = metadata(opts)
	default:
		fatal("unknown subcommand " + os.Args[1])
	}
	if failed {
		os.Exit(3)
	}
}

func parseFlags(name string, args []string) options {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	topic := fs.String("topic", "", "topic (roundtrip)")
	count := fs.Int("count", 5, "messages to produce and read back")
	version := fs.String("version", "1.0.0", "sarama Config.Version")
	mechanism := fs.String("mechanism", "PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	user := fs.String("user", "", "SASL user name")
	password := fs.String("password", "", "SASL password")
	if err := fs.Parse(args); err != nil {
		fatal(err.Error())
	}
	v, err := sarama.ParseKafkaVersion(*version)
	if err != nil {
		fatal(err.Error())
	}
	return options{
		bootstrap: *bootstrap,
		topic:     *topic,
		count:     *count,
		version:   v,
		mechanism: *mechanism,
		user:      *user,
		password:  *password,
	}
}

func newConfig(opts options) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-sasl"
	config.Version = opts.version
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Net.SASL.Enable = true
	config.Net.SASL.Handshake = true
	config.Net.SASL.Mechanism = sarama.SASLMechanism(opts.mechanism)
	config.Net.SASL.User = opts.user
	config.Net.SASL.Password = opts.password
	switch opts.mechanism {
	case sarama.SASLTypeSCRAMSHA256:
		config.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newScramClient(sha256Hash) }
	case sarama.SASLTypeSCRAMSHA512:
		config.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newScramClient(sha512Hash) }
	}
	config.Metadata.Retry.Max = 2
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Consumer.MaxWaitTime = 200 * time.Millisecond
	config.Consumer.Return.Errors = true
	return config
}

func roundtrip(opts options) bool {
	if opts.topic == "" {
		fatal("-topic is required")
	}
	client, err := sarama.NewClient([]string{opts.bootstrap}, newConfig(opts))
	emit("client", err, nil)
	if err != nil {
		return true
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		emit("producer", err, nil)
		return true
	}
	withHeaders := opts.version.IsAtLeast(sarama.V0_11_0_0)
	for i := 0; i < opts.count; i++ {
		message := &sarama.ProducerMessage{
			Topic:     opts.topic,
			Partition: 0,
			Key:       sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("sarama-%s-v%d", opts.mechanism, i)),
		}
		if withHeaders {
			message.Headers = []sarama.RecordHeader{{Key: []byte("n"), Value: []byte(fmt.Sprint(i))}}
		}
		partition, offset, err := producer.SendMessage(message)
		emit("produce", err, step{"p": partition, "o": offset})
		if err != nil {
			return true
		}
	}
	if err := producer.Close(); err != nil {
		emit("producer-close", err, nil)
		return true
	}

	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		emit("consumer", err, nil)
		return true
	}
	defer consumer.Close()
	partitionConsumer, err := consumer.ConsumePartition(opts.topic, 0, sarama.OffsetOldest)
	if err != nil {
		emit("consume-partition", err, nil)
		return true
	}
	defer partitionConsumer.Close()
	deadline := time.After(15 * time.Second)
	for read := 0; read < opts.count; read++ {
		select {
		case message := <-partitionConsumer.Messages():
			headers := [][2]string{}
			for _, header := range message.Headers {
				headers = append(headers, [2]string{string(header.Key), string(header.Value)})
			}
			emit("consume", nil, step{
				"p": message.Partition,
				"o": message.Offset,
				"k": string(message.Key),
				"v": string(message.Value),
				"h": headers,
			})
		case consumeErr := <-partitionConsumer.Errors():
			emit("consume", consumeErr.Err, nil)
			return true
		case <-deadline:
			emit("consume", fmt.Errorf("timed out after reading %d of %d messages", read, opts.count), nil)
			return true
		}
	}
	return false
}

func metadata(opts options) bool {
	broker := sarama.NewBroker(opts.bootstrap)
	if err := broker.Open(newConfig(opts)); err != nil {
		emit("open", err, nil)
		return true
	}
	defer broker.Close()
	response, err := broker.GetMetadata(&sarama.MetadataRequest{})
	if err != nil {
		emit("metadata", err, nil)
		return true
	}
	emit("metadata", nil, step{"brokers": len(response.Brokers)})
	return false
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(2)
}
