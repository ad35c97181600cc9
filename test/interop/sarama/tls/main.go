// Command sarama-tls drives sarama 1.22.1 (Debian golang-github-shopify-sarama-dev) over TLS for
// test/interop/tls.test.ts: Net.TLS.Enable with a tls.Config that trusts the test CA (and presents a client
// certificate for mutual TLS), optionally with SASL/PLAIN on top (SASL_SSL). Config.Version is V1_0_0_0, so
// records carry headers. Each step prints one JSON line, {"step": name, "err": code, ...}: err is the Kafka
// error code sarama returned (0: none, -1: an error sarama or Go's TLS made itself, its text in "msg").
//
// Subcommands:
//
//	roundtrip  a SyncProducer sends -count keyed messages with a header to partition 0 of -topic, then a
//	           partition consumer reads them back from the oldest offset: {"step":"produce","p","o"} per message
//	           sent, then {"step":"consume","p","o","k","v","h"} per message read.
//	metadata   one sarama.Broker asks for metadata: {"step":"metadata","err","brokers"}; a failed TLS handshake
//	           shows as the error of the open or of the request.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
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
	caPath    string
	certPath  string
	keyPath   string
	user      string
	password  string
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-tls roundtrip|metadata [flags]")
	}
	opts := parseFlags(os.Args[1], os.Args[2:])
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
	bootstrap := fs.String("bootstrap", "127.0.0.1:9093", "broker host:port")
	topic := fs.String("topic", "", "topic (roundtrip)")
	count := fs.Int("count", 4, "messages to produce and read back")
	caPath := fs.String("ca", "", "PEM file of the CA certificates to trust")
	certPath := fs.String("cert", "", "client certificate (PEM) for mutual TLS")
	keyPath := fs.String("key", "", "client private key (PEM) for mutual TLS")
	user := fs.String("user", "", "SASL/PLAIN user name (SASL_SSL); empty: no SASL")
	password := fs.String("password", "", "SASL/PLAIN password")
	if err := fs.Parse(args); err != nil {
		fatal(err.Error())
	}
	return options{
		bootstrap: *bootstrap,
		topic:     *topic,
		count:     *count,
		caPath:    *caPath,
		certPath:  *certPath,
		keyPath:   *keyPath,
		user:      *user,
		password:  *password,
	}
}

func tlsConfig(opts options) *tls.Config {
	pem, err := ioutil.ReadFile(opts.caPath)
	if err != nil {
		fatal(err.Error())
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fatal("no certificate in " + opts.caPath)
	}
	// No ServerName: Go's TLS takes the host of the address dialled, here an IP that the broker certificate
	// names in its subjectAltName, and verifies against it as it would for a real deployment.
	config := &tls.Config{RootCAs: roots}
	if opts.certPath != "" {
		pair, err := tls.LoadX509KeyPair(opts.certPath, opts.keyPath)
		if err != nil {
			fatal(err.Error())
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config
}

func newConfig(opts options) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-tls"
	config.Version = sarama.V1_0_0_0
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	config.Net.TLS.Enable = true
	config.Net.TLS.Config = tlsConfig(opts)
	if opts.user != "" {
		config.Net.SASL.Enable = true
		config.Net.SASL.Handshake = true
		config.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		config.Net.SASL.User = opts.user
		config.Net.SASL.Password = opts.password
	}
	config.Metadata.Retry.Max = 1
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
	for i := 0; i < opts.count; i++ {
		partition, offset, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic:     opts.topic,
			Partition: 0,
			Key:       sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("sarama-v%d", i)),
			Headers:   []sarama.RecordHeader{{Key: []byte("n"), Value: []byte(fmt.Sprint(i))}},
		})
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
