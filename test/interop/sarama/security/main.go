// Command sarama-security drives sarama 1.22.1 (Debian golang-github-shopify-sarama-dev) through Kafka's
// security features for test/interop/sasl.test.ts, tls.test.ts and acls.test.ts: SASL logins (-user), TLS
// (-ca, plus -cert and -key for mutual TLS), both at once (SASL_SSL), and ACL administration. It is its own
// program (not part of ../main.go's) so that these tests build only what they run. Each subcommand prints one
// JSON line per sarama call, {"step": name, "err": code, ...}: err is the Kafka error code sarama returned
// (0: none, -1: an error sarama or Go's TLS made itself, its text in "msg").
//
// sarama picks the SASL flow from Config.Version: for PLAIN, V1_0_0_0 and later send SaslHandshake v1 and
// wrap the token in SaslAuthenticate v0; older versions send SaslHandshake v0 and the token raw, size-prefixed,
// then wait for the broker's empty size-prefixed reply. SCRAM always uses SaslHandshake v1 and SaslAuthenticate
// v0, with the SCRAM client this program supplies (scram.go): sarama 1.22 ships none.
//
// Subcommands:
//
//	roundtrip  a SyncProducer sends -count messages to partition 0 of -topic, then a partition consumer reads
//	           them back from the oldest offset (roundtrip.go).
//	metadata   one sarama.Broker opened with the security settings asks for metadata (roundtrip.go).
//	admin      ClusterAdmin creates, lists and deletes ACLs of -principal (acls.go).
//	denied     the same calls from a user who may not administer ACLs (acls.go).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
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
	case *sarama.ProducerError:
		if kerr, ok := e.Err.(sarama.KError); ok {
			line["err"] = int(kerr)
		} else {
			line["err"] = -1
			line["msg"] = e.Err.Error()
		}
	default:
		line["err"] = -1
		line["msg"] = err.Error()
	}
	_ = out.Encode(line)
}

type options struct {
	bootstrap   string
	topic       string
	count       int
	valuePrefix string
	version     sarama.KafkaVersion
	mechanism   string
	user        string
	password    string
	caPath      string
	certPath    string
	keyPath     string
	prefix      string
	principal   string
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: sarama-security roundtrip|metadata|admin|denied [flags]")
	}
	subcommand := os.Args[1]
	opts := parseFlags(subcommand, os.Args[2:])
	if os.Getenv("SARAMA_DEBUG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	var failed bool
	switch subcommand {
	case "roundtrip":
		failed = roundtrip(opts)
	case "metadata":
		failed = metadata(opts)
	case "admin", "denied":
		failed = aclSession(subcommand, opts)
	default:
		fatal("unknown subcommand " + subcommand)
	}
	if failed {
		os.Exit(3)
	}
}

func parseFlags(subcommand string, args []string) options {
	defaultVersion := sarama.V1_0_0_0
	if subcommand == "admin" || subcommand == "denied" {
		// At least 0.11, which the ACL requests need; also the version whose Metadata names the controller.
		defaultVersion = sarama.V2_0_0_0
	}
	fs := flag.NewFlagSet(subcommand, flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "broker host:port")
	topic := fs.String("topic", "", "topic (roundtrip)")
	count := fs.Int("count", 4, "messages to produce and read back (roundtrip)")
	valuePrefix := fs.String("value-prefix", "sarama", "message i has the value <prefix>-v<i> (roundtrip)")
	version := fs.String("version", defaultVersion.String(), "sarama Config.Version")
	mechanism := fs.String("mechanism", sarama.SASLTypePlaintext, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	user := fs.String("user", "", "SASL user name; empty: no SASL")
	password := fs.String("password", "", "SASL password")
	caPath := fs.String("ca", "", "PEM file of the CA certificates to trust; empty: no TLS")
	certPath := fs.String("cert", "", "client certificate (PEM) for mutual TLS")
	keyPath := fs.String("key", "", "client private key (PEM) for mutual TLS")
	prefix := fs.String("prefix", "sarama-acl", "resource name prefix (admin, denied)")
	principal := fs.String("principal", "User:sarama", "principal of the ACLs (admin, denied)")
	if err := fs.Parse(args); err != nil {
		fatal(err.Error())
	}
	v, err := sarama.ParseKafkaVersion(*version)
	if err != nil {
		fatal(err.Error())
	}
	return options{
		bootstrap:   *bootstrap,
		topic:       *topic,
		count:       *count,
		valuePrefix: *valuePrefix,
		version:     v,
		mechanism:   *mechanism,
		user:        *user,
		password:    *password,
		caPath:      *caPath,
		certPath:    *certPath,
		keyPath:     *keyPath,
		prefix:      *prefix,
		principal:   *principal,
	}
}

func newConfig(opts options) *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "sluice-sarama-security"
	config.Version = opts.version
	config.Net.DialTimeout = 5 * time.Second
	config.Net.ReadTimeout = 10 * time.Second
	config.Net.WriteTimeout = 10 * time.Second
	if opts.caPath != "" {
		config.Net.TLS.Enable = true
		config.Net.TLS.Config = tlsConfig(opts)
	}
	if opts.user != "" {
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

func fatal(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(2)
}
