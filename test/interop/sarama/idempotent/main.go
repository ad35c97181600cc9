// Command sarama-idempotent drives sarama 1.22.1's idempotent producer (Debian
// golang-github-shopify-sarama-dev) against a broker for test/interop/idempotence.test.ts. It is its own program
// (not part of ../main.go's) so that the idempotence tests build only what they run.
//
// It sends -count keyed messages to -topic with one SyncProducer.SendMessages call (sarama's hash partitioner
// spreads them over the partitions; Producer.Idempotent needs Version >= V0_11_0_0, acks all, retries and one
// open request per connection), then prints one JSON line per message: {"p","o","k","v"} as acknowledged, or
// {"err","msg"} for each failed message (then exits 3). Message i has key "k<i % -keys>" and value
// "<prefix>-v<i>".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/Shopify/sarama"
)

type produced struct {
	P int32  `json:"p"`
	O int64  `json:"o"`
	K string `json:"k"`
	V string `json:"v"`
}

type produceFailure struct {
	Err int16  `json:"err"`
	Msg string `json:"msg"`
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	topic := flag.String("topic", "", "topic")
	count := flag.Int("count", 10, "messages to produce")
	keys := flag.Int("keys", 7, "distinct keys")
	prefix := flag.String("prefix", "sarama", "value prefix")
	flag.Parse()
	if *topic == "" {
		fatal("-topic is required")
	}
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}

	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-idempotent"
	config.Version = sarama.V2_0_0_0
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Net.MaxOpenRequests = 1
	config.Metadata.Retry.Max = 3
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	config.Producer.Idempotent = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Retry.Max = 5
	config.Producer.Retry.Backoff = 100 * time.Millisecond
	config.Producer.Return.Successes = true
	config.Producer.Return.Errors = true
	// Small batches, so that each partition gets several and the broker checks a run of sequences.
	config.Producer.Flush.Messages = 20

	producer, err := sarama.NewSyncProducer([]string{*bootstrap}, config)
	if err != nil {
		fatal(err.Error())
	}
	messages := make([]*sarama.ProducerMessage, *count)
	for i := range messages {
		messages[i] = &sarama.ProducerMessage{
			Topic: *topic,
			Key:   sarama.StringEncoder("k" + strconv.Itoa(i%*keys)),
			Value: sarama.StringEncoder(*prefix + "-v" + strconv.Itoa(i)),
		}
	}
	sendErr := producer.SendMessages(messages)
	out := json.NewEncoder(os.Stdout)
	if sendErr != nil {
		if failures, ok := sendErr.(sarama.ProducerErrors); ok {
			for _, failure := range failures {
				line := produceFailure{Err: -1, Msg: failure.Err.Error()}
				if kerr, ok := failure.Err.(sarama.KError); ok {
					line.Err = int16(kerr)
				}
				_ = out.Encode(line)
			}
		} else {
			_ = out.Encode(produceFailure{Err: -1, Msg: sendErr.Error()})
		}
		_ = producer.Close()
		os.Exit(3)
	}
	for i, message := range messages {
		_ = out.Encode(produced{
			P: message.Partition,
			O: message.Offset,
			K: "k" + strconv.Itoa(i%*keys),
			V: *prefix + "-v" + strconv.Itoa(i),
		})
	}
	if err := producer.Close(); err != nil {
		fatal(err.Error())
	}
}

func fatal(message string) {
	fmt.Fprintln(os.Stderr, "sarama-idempotent:", message)
	os.Exit(1)
}
