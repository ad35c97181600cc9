package main

// The roundtrip and metadata subcommands.
//
//	roundtrip  one {"step":"client"} line, one {"step":"produce","p","o"} line per message sent, then one
//	           {"step":"consume","p","o","k","v","h"} line per message read. Messages carry the header n=<i>
//	           from Config.Version 0.11 on.
//	metadata   {"step":"metadata","err","brokers"}; with bad credentials or a refused TLS handshake, err is
//	           what the failure left on the connection (or the error of the open).

import (
	"fmt"
	"time"

	"github.com/Shopify/sarama"
)

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
			Value:     sarama.StringEncoder(fmt.Sprintf("%s-v%d", opts.valuePrefix, i)),
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
