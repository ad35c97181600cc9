// The positions, partitioner, acks and max-bytes subcommands: what sarama users do with a Client, partition
// consumers and producers beyond a plain round trip. Each prints scripted steps as the admin subcommands do.
package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

// firstTimestamp is the CreateTime of message 0 in positions; message i is i seconds later.
var firstTimestamp = time.Date(2021, time.March, 4, 5, 6, 7, 0, time.UTC)

func unixMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano() / int64(time.Millisecond)
}

func producerConfig(opts options, acks sarama.RequiredAcks) *sarama.Config {
	config := newConfig(opts)
	config.Producer.RequiredAcks = acks
	config.Producer.Return.Successes = true
	config.Producer.Return.Errors = true
	config.Producer.Retry.Max = 0
	config.Producer.Compression = opts.compression
	config.Producer.Partitioner = sarama.NewManualPartitioner
	return config
}

// connectedClient returns a client whose connection to the leader of partition 0 is up.
func connectedClient(opts options, config *sarama.Config) (sarama.Client, *sarama.Broker, error) {
	client, err := sarama.NewClient([]string{opts.bootstrap}, config)
	if err != nil {
		return nil, nil, err
	}
	leader, err := client.Leader(opts.topic, 0)
	if err == nil {
		err = waitConnected(leader)
	}
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return client, leader, nil
}

type timedRecord struct {
	O  int64   `json:"o"`
	K  *string `json:"k"`
	V  *string `json:"v"`
	Ts int64   `json:"ts"`
}

func toTimedRecord(m *sarama.ConsumerMessage) timedRecord {
	r := toRecord(m)
	return timedRecord{O: m.Offset, K: r.K, V: r.V, Ts: unixMillis(m.Timestamp)}
}

// readMessages reads count messages from a partition consumer, or fails at the deadline.
func readMessages(pc sarama.PartitionConsumer, count int, timeout time.Duration) ([]timedRecord, error) {
	deadline := time.After(timeout)
	records := []timedRecord{}
	for len(records) < count {
		select {
		case m := <-pc.Messages():
			records = append(records, toTimedRecord(m))
		case e := <-pc.Errors():
			return records, e.Err
		case <-deadline:
			return records, fmt.Errorf("read %d of %d messages before the deadline", len(records), count)
		}
	}
	return records, nil
}

func getOffsets(client sarama.Client, topic string) (step, error) {
	oldest, err := client.GetOffset(topic, 0, sarama.OffsetOldest)
	if err != nil {
		return nil, err
	}
	newest, err := client.GetOffset(topic, 0, sarama.OffsetNewest)
	return step{"oldest": oldest, "newest": newest}, err
}

// sendNumbered sends messages first..first+count-1 to partition 0 in one SendMessages call and returns what
// the producer reported for each: the offset, and the timestamp (the broker's when the topic uses
// LogAppendTime).
func sendNumbered(producer sarama.SyncProducer, opts options, first, count int, withTimestamps bool) ([]step, error) {
	messages := make([]*sarama.ProducerMessage, count)
	for i := range messages {
		n := first + i
		messages[i] = &sarama.ProducerMessage{
			Topic: opts.topic,
			Key:   sarama.StringEncoder("k" + strconv.Itoa(n)),
			Value: sarama.StringEncoder(opts.prefix + "-v" + strconv.Itoa(n)),
		}
		if withTimestamps {
			messages[i].Timestamp = firstTimestamp.Add(time.Duration(n) * time.Second)
		}
	}
	if err := producer.SendMessages(messages); err != nil {
		return nil, err
	}
	sent := make([]step, count)
	for i, m := range messages {
		sent[i] = step{"o": m.Offset, "ts": unixMillis(m.Timestamp)}
	}
	return sent, nil
}

// positions: ListOffsets (oldest, newest, by time), partition consumers from an explicit offset, from the
// newest offset and from out of range, and CreateTime timestamps, on a fresh one-partition topic.
func positions(opts options) error {
	client, _, err := connectedClient(opts, producerConfig(opts, sarama.WaitForAll))
	if err != nil {
		return err
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	// Below V0_10_0_0 messages carry no timestamp; sarama refuses to send one.
	withTimestamps := opts.version.IsAtLeast(sarama.V0_10_0_0)

	offsets, err := getOffsets(client, opts.topic)
	emit("offsets-empty", err, offsets)
	sent, err := sendNumbered(producer, opts, 0, 5, withTimestamps)
	emit("produce", err, step{"sent": sent})
	offsets, err = getOffsets(client, opts.topic)
	emit("offsets", err, offsets)

	pc, err := consumer.ConsumePartition(opts.topic, 0, 2)
	if err != nil {
		emit("consume-from-2", err, nil)
	} else {
		records, err := readMessages(pc, 3, opts.timeout)
		_ = pc.Close()
		emit("consume-from-2", err, step{"records": records})
	}

	// OffsetNewest resolves to the high watermark before ConsumePartition returns: only later messages arrive.
	pc, err = consumer.ConsumePartition(opts.topic, 0, sarama.OffsetNewest)
	if err != nil {
		emit("consume-newest", err, nil)
	} else {
		sent, err = sendNumbered(producer, opts, 5, 2, withTimestamps)
		records := []timedRecord{}
		if err == nil {
			records, err = readMessages(pc, 2, opts.timeout)
		}
		_ = pc.Close()
		emit("consume-newest", err, step{"sent": sent, "records": records})
	}

	pc, err = consumer.ConsumePartition(opts.topic, 0, 7)
	if err == nil {
		_ = pc.Close()
	}
	emit("consume-at-high-watermark", err, nil)
	_, err = consumer.ConsumePartition(opts.topic, 0, 8)
	emit("consume-past-high-watermark", err, nil)

	if opts.version.IsAtLeast(sarama.V0_10_1_0) {
		byTime := step{}
		for _, n := range []int{0, 2, 7} {
			at := unixMillis(firstTimestamp.Add(time.Duration(n) * time.Second))
			offset, err := client.GetOffset(opts.topic, 0, at)
			if err != nil {
				emit("offsets-for-times", err, nil)
				return nil
			}
			byTime[strconv.Itoa(n)] = offset
		}
		emit("offsets-for-times", nil, byTime)
	}
	return nil
}

// partitioner sends keys key-0..key-<count-1> once with a SyncProducer and once with an AsyncProducer, both
// with sarama's Hash partitioner, and prints where each landed.
func partitioner(opts options) error {
	config := producerConfig(opts, sarama.WaitForAll)
	config.Producer.Partitioner = sarama.NewHashPartitioner
	client, err := sarama.NewClient([]string{opts.bootstrap}, config)
	if err != nil {
		return err
	}
	defer client.Close()
	for p := int32(0); p < int32(opts.partitions); p++ {
		leader, err := client.Leader(opts.topic, p)
		if err == nil {
			err = waitConnected(leader)
		}
		if err != nil {
			return err
		}
	}

	keyed := func(i int, via string) *sarama.ProducerMessage {
		return &sarama.ProducerMessage{
			Topic: opts.topic,
			Key:   sarama.StringEncoder("key-" + strconv.Itoa(i)),
			Value: sarama.StringEncoder(via + "-" + strconv.Itoa(i)),
		}
	}
	syncProducer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	messages := make([]*sarama.ProducerMessage, opts.count)
	for i := range messages {
		messages[i] = keyed(i, "sync")
	}
	err = syncProducer.SendMessages(messages)
	_ = syncProducer.Close()
	placed := []step{}
	for _, m := range messages {
		placed = append(placed, step{"p": m.Partition, "o": m.Offset})
	}
	emit("sync", err, step{"placed": placed})

	asyncProducer, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		return err
	}
	index := map[*sarama.ProducerMessage]int{}
	for i := 0; i < opts.count; i++ {
		m := keyed(i, "async")
		index[m] = i
		asyncProducer.Input() <- m
	}
	placed = make([]step, opts.count)
	deadline := time.After(opts.timeout)
	for received := 0; received < opts.count && err == nil; received++ {
		select {
		case m := <-asyncProducer.Successes():
			placed[index[m]] = step{"p": m.Partition, "o": m.Offset}
		case e := <-asyncProducer.Errors():
			err = e.Err
		case <-deadline:
			err = fmt.Errorf("async producer: %d of %d results before the deadline", received, opts.count)
		}
	}
	asyncProducer.AsyncClose()
	emit("async", err, step{"placed": placed})
	return nil
}

// acks sends three messages with each RequiredAcks setting, each from its own client, then asks the same
// connection for the high watermark: a broker that answered an acks=0 produce would desynchronise it.
func acks(opts options) error {
	settings := []sarama.RequiredAcks{sarama.NoResponse, sarama.WaitForLocal, sarama.WaitForAll}
	for round, setting := range settings {
		client, _, err := connectedClient(opts, producerConfig(opts, setting))
		if err != nil {
			return err
		}
		producer, err := sarama.NewSyncProducerFromClient(client)
		if err != nil {
			_ = client.Close()
			return err
		}
		sent, err := sendNumbered(producer, opts, round*3, 3, false)
		newest := int64(-1)
		if err == nil {
			newest, err = client.GetOffset(opts.topic, 0, sarama.OffsetNewest)
		}
		emit("acks-"+strconv.Itoa(int(setting)), err, step{"sent": sent, "newest": newest})
		_ = producer.Close()
		_ = client.Close()
	}
	return nil
}

// maxBytes sends one unkeyed message of each -sizes value bytes to partition 0, one request each, with the
// client's own size limit raised so that only the broker judges.
func maxBytes(opts options) error {
	config := producerConfig(opts, sarama.WaitForAll)
	config.Producer.MaxMessageBytes = 8 << 20
	client, _, err := connectedClient(opts, config)
	if err != nil {
		return err
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	for _, text := range strings.Split(opts.sizes, ",") {
		size, err := strconv.Atoi(text)
		if err != nil {
			return fmt.Errorf("-sizes: %v", err)
		}
		_, offset, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: opts.topic, Value: sarama.ByteEncoder(make([]byte, size)),
		})
		if err != nil {
			offset = -1
		}
		emit("size-"+text, err, step{"o": offset})
	}
	return nil
}
